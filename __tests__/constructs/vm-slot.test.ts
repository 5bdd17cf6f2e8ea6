import { Testing, TerraformStack } from 'cdktf';
import { VmModel } from '../../model/cluster';
import { DEFAULT_CPU_TYPE, diskLayout, proxmoxTags } from '../../constructs/vm-slot';
import { VmFleet } from '../../constructs/vm-fleet';
import { VmShardStack } from '../../stacks/vm-shard-stack';
import { edit, exampleText, modelOf } from '../helpers/synth';
import { resource, synthGuests } from './guest-synth';

const EXTRA_VM = `  - vmid: 10502
    name: legacy
    node: pve-master-rack-a-1-1
    cloud_init: false
    onboot: false
    full_clone: false
    cores: 4
    sockets: 2
    tags: [zeta, alpha]
    description: 'keeps \${HOME} and %{ literal }'
    disks:
      - { slot: virtio0, size_gb: 8, storage: local-lvm }
      - { slot: scsi1, size_gb: 100 }
`;

describe('VmSlot in the example cluster', () => {
  const text = edit(exampleText(), '\nwatchdog:', `\n${EXTRA_VM}\nwatchdog:`);
  const { stacks } = synthGuests(modelOf(text));
  const vm = (shard: string, vmid: number) => resource(stacks.get(shard), 'proxmox_vm_qemu', `vm-${vmid}`);

  it('puts each VM in the shard of its VM-management index, under the logical ID vm-<vmid>', () => {
    expect(Object.keys(stacks.get('vms-e0')!.resource!.proxmox_vm_qemu).sort()).toEqual(['vm-101', 'vm-102']);
    expect(Object.keys(stacks.get('vms-e10')!.resource!.proxmox_vm_qemu).sort()).toEqual(['vm-10501', 'vm-10502']);
  });

  it('derives VMID, MAC, IP and placement from cluster.yaml (VMID 10501 → 10.10.5.1, MAC 02:C1:A5 + 0x002905)', () => {
    const mail = vm('vms-e10', 10501);
    expect(mail).toMatchObject({
      vmid: 10501,
      name: 'mail',
      target_node: 'pve-master-rack-b-1-2',
      clone: 'debian-12-cloudinit',
      full_clone: true,
      ipconfig0: 'ip=10.10.5.1/8,gw=10.0.0.254',
      os_type: 'cloud-init',
      start_at_node_boot: true,
      boot: 'order=scsi0',
      tags: 'cias',
      memory: 2048,
      cpu: { cores: 2, sockets: 1, type: DEFAULT_CPU_TYPE },
      scsihw: 'virtio-scsi-single',
    });
    expect(mail.network).toEqual([{ id: 0, model: 'virtio', bridge: 'vmbr0', macaddr: '02:C1:A5:00:29:05' }]);
    expect(vm('vms-e0', 101).network[0].macaddr).toBe('02:C1:A5:00:00:65');
    expect(vm('vms-e0', 101).ipconfig0).toBe('ip=10.0.1.1/8,gw=10.0.0.254');
    // The node was given by IP (10.254.1.2); Proxmox needs its name.
    expect(vm('vms-e0', 102).target_node).toBe('pve-master-rack-b-1-2');
    expect(vm('vms-e0', 101).tags).toBe('cias;web');
  });

  it('lays disks out in the v3 `disks` block, with the cloud-init drive on ide2 of the first disk\'s storage', () => {
    expect(vm('vms-e0', 102).disks).toEqual({
      scsi: { scsi0: { disk: { size: '40G', storage: 'a_mfs', format: 'qcow2', backup: true } } },
      ide: { ide2: { cloudinit: { storage: 'a_mfs' } } },
    });
    expect(vm('vms-e0', 102).memory).toBe(4096);
  });

  it('honours per-VM settings: no cloud-init, several controllers, raw on block storage, boot from the first disk', () => {
    const legacy = vm('vms-e10', 10502);
    expect(legacy.disks).toEqual({
      virtio: { virtio0: { disk: { size: '8G', storage: 'local-lvm', format: 'raw', backup: true } } },
      scsi: { scsi1: { disk: { size: '100G', storage: 'a_mfs', format: 'qcow2', backup: true } } },
    });
    expect(legacy.boot).toBe('order=virtio0');
    expect(legacy).not.toHaveProperty('ipconfig0');
    expect(legacy).not.toHaveProperty('os_type');
    expect(legacy).toMatchObject({ start_at_node_boot: false, full_clone: false, cpu: { cores: 4, sockets: 2 } });
    expect(legacy.tags).toBe('alpha;cias;zeta');
    expect(legacy.description).toBe('keeps $${HOME} and %%{ literal }');
    expect(legacy.network[0].macaddr).toBe('02:C1:A5:00:29:06');
  });

  it('ignores only the arguments cias or tenants change on purpose, and never protects tenants from destroy', () => {
    for (const [shard, vmid] of [['vms-e0', 101], ['vms-e0', 102], ['vms-e10', 10501], ['vms-e10', 10502]] as const) {
      expect(vm(shard, vmid).lifecycle).toEqual({ ignore_changes: ['target_node', 'clone', 'full_clone', 'power_state'] });
    }
  });
});

describe('diskLayout', () => {
  const disk = (slot: string, sizeGb = 10, storage = 'a_mfs') => ({ slot, sizeGb, storage });

  it('moves the cloud-init drive off ide2 when a disk sits there', () => {
    expect(diskLayout([disk('ide2'), disk('scsi0')], true).disks.ide).toEqual({
      ide2: { disk: { size: '10G', storage: 'a_mfs', format: 'qcow2', backup: true } },
      ide3: { cloudinit: { storage: 'a_mfs' } },
    });
  });

  it('refuses what the provider would reject or silently mangle', () => {
    expect(() => diskLayout([], false)).toThrow(/at least one disk/);
    expect(() => diskLayout([disk('scsi31')], false)).toThrow(/not a disk slot: scsi31/);
    expect(() => diskLayout([disk('nvme0')], false)).toThrow(/not a disk slot/);
    expect(() => diskLayout([disk('scsi0'), disk('scsi0')], false)).toThrow(/scsi0 is used twice/);
    expect(() => diskLayout([disk('ide0'), disk('ide1'), disk('ide2'), disk('ide3')], true)).toThrow(/cloud-init/);
  });
});

describe('proxmoxTags', () => {
  it('is canonical: managed tag added, lower-case, sorted, deduplicated, `;`-separated', () => {
    expect(proxmoxTags([])).toBe('cias');
    expect(proxmoxTags(['web', 'Db', 'web', 'cias'])).toBe('cias;db;web');
  });
});

describe('VmShardStack', () => {
  const model = modelOf(exampleText());
  const mail = model.vms.find((v) => v.vmid === 10501) as VmModel;

  it('refuses VMs of another index, an index out of range, and a VMID twice', () => {
    expect(() => new VmShardStack(Testing.app(), model, 0, [mail])).toThrow(/VMIDs 10501 belong to other shards/);
    expect(() => new VmShardStack(Testing.app(), model, 251, [])).toThrow(/outside 0..250/);
    expect(() => new VmShardStack(Testing.app(), model, 10, [mail, mail])).toThrow(/10501 listed twice/);
  });

  it('refuses the gateway VMID as a tenant and impossible disk layouts, all at once', () => {
    const stack = new TerraformStack(Testing.app(), 'x');
    const badDisks = { ...mail, vmid: 10502, disks: [{ slot: 'nvme0', sizeGb: 8, storage: 'a_mfs' }] };
    expect(() => new VmFleet(stack, 'vms', { vms: [{ ...mail, vmid: 100 }, badDisks] })).toThrow(
      'x/vms: VMID 100 is the gateway, not a tenant VM; VMID 10502: not a disk slot: nvme0 (scsi0..30, virtio0..15, sata0..5, ide0..3)',
    );
  });
});
