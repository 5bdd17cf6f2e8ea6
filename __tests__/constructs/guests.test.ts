import { TerraformStack } from 'cdktf';
import { diffResources, edit, exampleText, modelOf, StackJson } from '../helpers/synth';
import { resource, resourceStartingWith, pushedBundle, synthGuests } from './guest-synth';

const NEW_VM = `  - vmid: 103
    name: cache
    node: pve-master-rack-a-1-1
`;

const withVm = (text: string, vm: string) => edit(text, '\nwatchdog:', `\n${vm}\nwatchdog:`);
const withoutBody = (stack: StackJson) => JSON.stringify({ ...stack, resource: undefined });

describe('addGuestStacks', () => {
  const example = exampleText();

  it('makes the gateway stack and one vms-e<E> shard per VM-management index, each with its own provider', () => {
    const { stacks, guests } = synthGuests(modelOf(example));
    expect([...stacks.keys()].sort()).toEqual(['gateway', 'vms-e0', 'vms-e10']);
    expect(guests.shards.map((s) => s.externalIndex)).toEqual([0, 10]);
    expect([...guests.gateway.nas.keys()]).toEqual(['nas-storage-rack-a-1-1']);
    for (const stack of stacks.values()) expect(stack.provider).toHaveProperty('proxmox');
    expect(stacks.get('vms-e0')!.provider).not.toHaveProperty('null');
  });

  it('keeps a shard for an index whose VMs are all gone, so applying it destroys them', () => {
    const text = edit(
      example,
      `  - slot: { e: 10, a: 5, b: 1 }     # VMID 10501: 10.10.5.1, ports 50100-50199 on 192.168.56.114
    name: mail
    node: pve-master-rack-b-1-2
    ports:
      - { external: 50125, internal: 25, protocol: tcp }
      - { external: 50187, internal: 587, protocol: tcp }
`,
      '',
    );
    const { stacks } = synthGuests(modelOf(text));
    expect(stacks.get('vms-e10')!.resource).toBeUndefined();
    expect(stacks.get('vms-e10')!.provider).toHaveProperty('proxmox');
  });

  it('orders every guest stack after the given stacks (the hosts stack), and no shard after another', () => {
    const { dependencies } = synthGuests(modelOf(example), {}, (app) => ({ after: [new TerraformStack(app, 'hosts')] }));
    expect(Object.fromEntries(dependencies)).toEqual({ hosts: [], gateway: ['hosts'], 'vms-e0': ['hosts'], 'vms-e10': ['hosts'] });
    const alone = synthGuests(modelOf(example)).dependencies;
    expect([...alone.values()]).toEqual([[], [], []]);
  });

  it('synthesizes the same JSON twice', () => {
    const first = synthGuests(modelOf(example)).stacks;
    const second = synthGuests(modelOf(example)).stacks;
    expect(JSON.stringify([...second])).toBe(JSON.stringify([...first]));
  });

  it('adding one VM changes only that VM in its shard and the gateway rules push', () => {
    const before = synthGuests(modelOf(example)).stacks;
    const after = synthGuests(modelOf(withVm(example, NEW_VM))).stacks;
    expect([...after.keys()]).toEqual([...before.keys()]);

    expect(after.get('vms-e10')).toEqual(before.get('vms-e10'));
    expect(diffResources(before.get('vms-e0')!, after.get('vms-e0')!)).toEqual({ added: ['proxmox_vm_qemu.vm-103'], removed: [], changed: [] });
    expect(withoutBody(after.get('vms-e0')!)).toBe(withoutBody(before.get('vms-e0')!));
    expect(resource(after.get('vms-e0'), 'proxmox_vm_qemu', 'vm-103')).toMatchObject({
      vmid: 103,
      ipconfig0: 'ip=10.0.1.3/8,gw=10.0.0.254',
      network: [{ id: 0, macaddr: '02:C1:A5:00:00:67' }],
    });

    const [rules] = resourceStartingWith(before.get('gateway'), 'null_resource', 'cias-router_rules_push_');
    expect(diffResources(before.get('gateway')!, after.get('gateway')!)).toEqual({ added: [], removed: [], changed: [`null_resource.${rules}`] });
    expect(withoutBody(after.get('gateway')!)).toBe(withoutBody(before.get('gateway')!));
    const oldRules = pushedBundle(resourceStartingWith(before.get('gateway'), 'null_resource', 'cias-router_rules_push_')[1]);
    const newRules = pushedBundle(resourceStartingWith(after.get('gateway'), 'null_resource', 'cias-router_rules_push_')[1]);
    const reservation = 'host vm103 { hardware ethernet 02:c1:a5:00:00:67; fixed-address 10.0.1.3;';
    expect(oldRules).not.toContain(reservation);
    expect(newRules).toContain(reservation);
  });

  it('builds a full index (495 VMs) into one shard (timings: npm run bench)', () => {
    const vms: string[] = [];
    for (let a = 1; a <= 5; a++) for (let b = 1; b <= 99; b++) vms.push(`  - { slot: { e: 0, a: ${a}, b: ${b} }, name: vm-${a}-${b}, node: pve-master-rack-a-1-1 }`);
    const text = edit(
      edit(example, /\nvms:\n[\s\S]*?\nwatchdog:/.exec(example)![0], `\nvms:\n${vms.join('\n')}\n\nwatchdog:`),
      '    - { index: 10, ip: 192.168.56.114 }\n',
      '',
    );
    const { stacks } = synthGuests(modelOf(text));
    expect(Object.keys(stacks.get('vms-e0')!.resource!.proxmox_vm_qemu)).toHaveLength(495);
    expect(resource(stacks.get('vms-e0'), 'proxmox_vm_qemu', 'vm-599').ipconfig0).toBe('ip=10.0.5.99/8,gw=10.0.0.254');
  });
});
