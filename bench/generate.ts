/**
 * Generates cluster.yaml texts of a given size for the benchmark (and for scale tests): nodes fill
 * 10.254.{1..5}.{1..99} rack by rack, VMs fill VMIDs index by index, spread round-robin over nodes.
 */
import { allSlots, hostNames, vmidFromSlot, MAX_RACK_ROW, MAX_SLOT } from '../model/addressing';
import { ClusterModel, NodeModel } from '../model/cluster';

export interface GeneratedClusterSpec {
  readonly nodes: number;
  readonly vms: number;
  /** @default 'null_resource' */
  readonly resourceType?: 'null_resource' | 'terraform_data';
}

const DOMAIN = 'example.com';

/** Node addresses the plan allows: 10.254.{1..5}.{1..99}. */
export const MAX_NODE_ADDRESSES = MAX_RACK_ROW * MAX_SLOT;

export function generateClusterYaml(spec: GeneratedClusterSpec): string {
  if (spec.nodes < 1 || spec.nodes > MAX_NODE_ADDRESSES) {
    throw new RangeError(`nodes must be 1..${MAX_NODE_ADDRESSES} (the address plan's node range)`);
  }
  const lines: string[] = [
    `cluster: { name: DLLL-CIAS, domain: ${DOMAIN} }`,
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
    nodeNames.push(hostNames('pve', `r${row}`, `p${position}`, `10.254.${row}.${position}`, DOMAIN).name);
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

/** Nodes the spec allows (SPEC §1: "1 to 1270 nodes"); the address plan holds MAX_NODE_ADDRESSES. */
export const SPEC_MAX_NODES = 1270;

/**
 * The model of a generated cluster with more nodes than the address plan holds. No cluster.yaml can
 * list more than 495 nodes (10.254.{1..5}.{1..99}), so the nodes past that are added to the loaded
 * model directly, on addresses past the plan (10.254.{1..5}.{100..254}): each a copy of a generated
 * node under its own name and address. For measuring synthesis at the spec's node count only.
 */
export function withNodesPastThePlan(model: ClusterModel, totalNodes: number): ClusterModel {
  const template = model.nodes.find((node) => !node.isBootstrap) ?? model.nodes[0];
  const nodes: NodeModel[] = [...model.nodes];
  for (let i = 0; nodes.length < totalNodes; i++) {
    const row = (i % MAX_RACK_ROW) + 1;
    const position = MAX_SLOT + 1 + Math.floor(i / MAX_RACK_ROW);
    if (position > 254) throw new RangeError(`at most ${MAX_NODE_ADDRESSES + MAX_RACK_ROW * (254 - MAX_SLOT)} nodes fit 10.254.{1..5}.{1..254}`);
    const ip = `10.254.${row}.${position}`;
    const rack = `r${row}`;
    const slot = `p${position}`;
    nodes.push({
      ...template,
      ...hostNames('pve', rack, slot, ip, model.domain),
      rack,
      position: slot,
      ip,
      isBootstrap: false,
      ssh: { ...template.ssh, host: ip },
    });
  }
  return { ...model, nodes };
}
