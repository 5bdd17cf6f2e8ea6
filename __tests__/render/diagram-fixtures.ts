/**
 * Shared by the diagram tests: clusters of any size built from the example cluster.yaml's model, and a
 * strict XML well-formedness check for the subset of XML the renderer writes (elements, attributes,
 * text, character references; no comments, CDATA or processing instructions).
 */
import { join } from 'path';
import { ClusterModel, NodeModel, VmModel } from '../../model/cluster';
import { loadClusterFile } from '../../model/load';

export const EXAMPLE_FILE = join(__dirname, '..', '..', 'cluster.yaml');

export function exampleModel(): ClusterModel {
  return loadClusterFile(EXAMPLE_FILE).model;
}

export interface GeneratedClusterShape {
  readonly racks: number;
  readonly nodesPerRack: number;
  /** Every n-th node is below the hardware minimum (never master). */
  readonly weakEvery: number;
  /** VM-management indices 0..indices-1, each with `vmsPerIndex` VMs. */
  readonly indices: number;
  readonly vmsPerIndex: number;
  readonly nasCount: number;
}

/** The spec's largest cluster: 1,270 nodes, all 251 VM-management IPs full (124,245 VMs). */
export const FULL_CAPACITY: GeneratedClusterShape = {
  racks: 127,
  nodesPerRack: 10,
  weakEvery: 7,
  indices: 251,
  vmsPerIndex: 495,
  nasCount: 12,
};

/**
 * A ClusterModel object of the given shape (the model, not a cluster.yaml: 1,270 nodes do not fit
 * the node address plan, and the renderer must cope with whatever the model holds).
 */
export function generatedModel(shape: GeneratedClusterShape): ClusterModel {
  const base = exampleModel();
  const template = base.nodes[0];
  const nodes: NodeModel[] = [];
  for (let r = 0; r < shape.racks; r++) {
    for (let p = 0; p < shape.nodesPerRack; p++) {
      const i = nodes.length;
      const ip = `10.254.${1 + Math.floor(i / 254)}.${1 + (i % 254)}`;
      const [rack, position] = [`rack-${String(r + 1).padStart(3, '0')}`, `u${p + 1}`];
      const [, , o3, o4] = ip.split('.');
      const weak = i > 0 && i % shape.weakEvery === 0;
      nodes.push({
        ...template,
        name: `pve-${rack}-${position}-${o3}-${o4}`,
        fqdn: `pve.${rack}.${position}.${o3}-${o4}.${base.domain}`,
        rack,
        position,
        ip,
        priority: i === 0 ? 100 : 50,
        meetsMinimum: !weak,
        canBeMaster: !weak,
        isBootstrap: i === 0,
      });
    }
  }
  const bootstrap = nodes[0];
  const vmTemplate = base.vms[0];
  const vms: VmModel[] = [];
  for (let e = 0; e < shape.indices; e++) {
    for (let k = 0; k < shape.vmsPerIndex; k++) {
      const a = 1 + Math.floor(k / 99);
      const b = 1 + (k % 99);
      const vmid = e * 1000 + a * 100 + b;
      const p = a * 100 + b;
      vms.push({
        ...vmTemplate,
        vmid,
        name: `vm${vmid}`,
        externalIndex: e,
        a,
        b,
        ip: `10.${e}.${a}.${b}`,
        externalIp: vmMgmtIp(e),
        ports: { first: p * 100, last: p * 100 + 99 },
        node: nodes[vms.length % nodes.length].name,
        sourceIndex: vms.length,
      });
    }
  }
  const nas = Array.from({ length: shape.nasCount }, (_, i) => ({
    ...base.nas[0],
    name: `nas-storage-${i + 1}-1-${i + 1}`,
    fqdn: `nas.storage-${i + 1}.a.1-${i + 1}.${base.domain}`,
    ip: `10.253.1.${i + 1}`,
  }));
  return {
    ...base,
    nodes,
    bootstrap,
    nas,
    vms,
    wan: { ...base.wan, vmMgmtIps: Array.from({ length: shape.indices }, (_, e) => ({ index: e, ip: vmMgmtIp(e) })) },
    gateway: { ...base.gateway, node: bootstrap.name },
  };
}

/** 253 WAN addresses need more than a /24: spread them over 192.168.56.0/22 from .56.104 on. */
function vmMgmtIp(index: number): string {
  const offset = 104 + index;
  return `192.168.${56 + Math.floor(offset / 256)}.${offset % 256}`;
}

const NAME = '[A-Za-z_][A-Za-z0-9_.:-]*';
const REFERENCE = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);/y;
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/** Problems that make `text` not well-formed XML (empty when it is). */
export function wellFormednessProblems(text: string): string[] {
  const problems: string[] = [];
  const checkCharacterData = (data: string, where: number): void => {
    if (FORBIDDEN.test(data)) problems.push(`forbidden character near offset ${where}`);
    for (let i = data.indexOf('&'); i >= 0; i = data.indexOf('&', i + 1)) {
      REFERENCE.lastIndex = i;
      if (!REFERENCE.test(data)) problems.push(`bare & near offset ${where + i}: ${JSON.stringify(data.slice(i, i + 12))}`);
    }
  };
  const tag = new RegExp(`<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>`, 'y');
  const attribute = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"<]*)"|'([^'<]*)')`, 'g');
  const open: string[] = [];
  let roots = 0;
  let position = 0;
  while (position < text.length) {
    if (text[position] !== '<') {
      const end = text.indexOf('<', position);
      const data = text.slice(position, end < 0 ? text.length : end);
      if (open.length === 0 && data.trim() !== '') problems.push(`text outside the root element at offset ${position}`);
      checkCharacterData(data, position);
      position += data.length;
      continue;
    }
    tag.lastIndex = position;
    const match = tag.exec(text);
    if (!match) {
      problems.push(`not a tag at offset ${position}: ${JSON.stringify(text.slice(position, position + 40))}`);
      break;
    }
    const [whole, closing, name, attributes, selfClosing] = match;
    if (closing) {
      if (attributes || selfClosing) problems.push(`malformed end tag </${name}> at offset ${position}`);
      const expected = open.pop();
      if (expected !== name) problems.push(`</${name}> at offset ${position} closes <${expected ?? 'nothing'}>`);
    } else {
      const seen = new Set<string>();
      for (const [, key, double, single] of attributes.matchAll(attribute)) {
        if (seen.has(key)) problems.push(`duplicate attribute ${key} on <${name}> at offset ${position}`);
        seen.add(key);
        checkCharacterData(double ?? single ?? '', position);
      }
      if (open.length === 0) roots++;
      if (!selfClosing) open.push(name);
    }
    position += whole.length;
  }
  if (open.length > 0) problems.push(`unclosed elements: ${open.join(' > ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}

/**
 * A valid cluster.yaml text: `racks` × `nodesPerRack` nodes (at most 495, the node address plan),
 * every `weakEvery`-th below the minimum, and `vmsPerIndex` VMs on each of VM-management indices
 * 0..indices-1, spread over the nodes.
 */
export function generatedClusterYaml(shape: Omit<GeneratedClusterShape, 'nasCount'>): string {
  const lines = [
    'cluster: { name: DLLL-CIAS, domain: example.com }',
    'wan:',
    '  netmask: 255.255.252.0',
    '  gateway: 192.168.56.1',
    '  master_ip: 192.168.56.101',
    '  proxmox_mgmt_ip: 192.168.56.102',
    '  nas_mgmt_ip: 192.168.56.103',
    '  vm_mgmt_ips:',
    ...Array.from({ length: shape.indices }, (_, e) => `    - { index: ${e}, ip: ${vmMgmtIp(e)} }`),
    'bootstrap_node: 10.254.1.1',
    'nodes:',
  ];
  const nodeIps: string[] = [];
  for (let r = 0; r < shape.racks; r++) {
    for (let p = 0; p < shape.nodesPerRack; p++) {
      const i = nodeIps.length;
      const ip = `10.254.${1 + Math.floor(i / 99)}.${1 + (i % 99)}`;
      nodeIps.push(ip);
      const weak = i > 0 && i % shape.weakEvery === 0 ? ', meets_minimum: false' : '';
      lines.push(`  - { rack: rack-${r + 1}, position: u${p + 1}, ip: ${ip}${weak} }`);
    }
  }
  lines.push('vm_defaults: { template: debian-12-cloudinit }', 'vms:');
  let n = 0;
  for (let e = 0; e < shape.indices; e++) {
    for (let k = 0; k < shape.vmsPerIndex; k++) {
      const vmid = e * 1000 + (1 + Math.floor(k / 99)) * 100 + 1 + (k % 99);
      lines.push(`  - { vmid: ${vmid}, name: vm${vmid}, node: ${nodeIps[n++ % nodeIps.length]} }`);
    }
  }
  return `${lines.join('\n')}\n`;
}
