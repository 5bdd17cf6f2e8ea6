/**
 * Generates cluster.yaml texts of a given size for the benchmark (and for scale tests): nodes fill
 * 10.254.{1..5}.{1..99} rack by rack, VMs fill VMIDs index by index, spread round-robin over nodes.
 */
import { allSlots, vmidFromSlot, MAX_RACK_ROW, MAX_SLOT } from '../model/addressing';

export interface GeneratedClusterSpec {
  readonly nodes: number;
  readonly vms: number;
  /** @default 'null_resource' */
  readonly resourceType?: 'null_resource' | 'terraform_data';
}

/** Node addresses the plan allows: 10.254.{1..5}.{1..99}. */
export const MAX_NODE_ADDRESSES = MAX_RACK_ROW * MAX_SLOT;

export function generateClusterYaml(spec: GeneratedClusterSpec): string {
  if (spec.nodes < 1 || spec.nodes > MAX_NODE_ADDRESSES) {
    throw new RangeError(`nodes must be 1..${MAX_NODE_ADDRESSES} (the address plan's node range)`);
  }
  const lines: string[] = [
    'cluster: { name: DLLL-CIAS, domain: example.com }',
    'wan:',
    '  netmask: 255.255.0.0',
    '  gateway: 192.168.0.1',
    '  master_ip: 192.168.0.2',
    '  proxmox_mgmt_ip: 192.168.0.3',
    '  nas_mgmt_ip: 192.168.0.4',
    '  vm_mgmt_ips:',
  ];
  const slots = [...take(allSlots(), spec.vms)];
  const indices = [...new Set(slots.map((s) => s.externalIndex))];
  for (const index of indices.length > 0 ? indices : [0]) lines.push(`    - { index: ${index}, ip: 192.168.1.${index} }`);
  lines.push('bootstrap_node: 10.254.1.1', 'nodes:');
  const nodeNames: string[] = [];
  for (let i = 0; i < spec.nodes; i++) {
    const row = Math.floor(i / MAX_SLOT) + 1;
    const position = (i % MAX_SLOT) + 1;
    nodeNames.push(`pve-r${row}-p${position}-${row}-${position}`);
    lines.push(`  - { rack: r${row}, position: p${position}, ip: 10.254.${row}.${position}, disks: [{ device: sdb }] }`);
  }
  lines.push('vm_defaults: { template: debian-12-cloudinit }', 'vms:');
  slots.forEach((slot, i) => {
    const vmid = vmidFromSlot(slot);
    lines.push(`  - { vmid: ${vmid}, name: vm${vmid}, node: ${nodeNames[i % nodeNames.length]} }`);
  });
  if (slots.length === 0) lines[lines.length - 1] = 'vms: []';
  lines.push(`provisioning: { resource_type: ${spec.resourceType ?? 'null_resource'} }`);
  return `${lines.join('\n')}\n`;
}

function* take<T>(items: Iterable<T>, count: number): Generator<T> {
  if (count <= 0) return;
  let n = 0;
  for (const item of items) {
    yield item;
    if (++n >= count) return;
  }
}
