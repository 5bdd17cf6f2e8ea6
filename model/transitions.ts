/**
 * Dangerous transitions between two versions of a cluster: what `cias validate --against old.yaml`
 * warns about before anyone plans. Pure; paths point into whichever file holds the thing.
 */
import { ClusterModel, NodeModel } from './cluster';
import { YamlPath } from './problems';

export interface Transition {
  /** Which file the path points into. */
  readonly file: 'old' | 'new';
  readonly path: YamlPath;
  readonly message: string;
}

function indexBy<T>(items: readonly T[], key: (item: T) => string): Map<string, { item: T; index: number }> {
  return new Map(items.map((item, index) => [key(item), { item, index }]));
}

export function dangerousTransitions(before: ClusterModel, after: ClusterModel): Transition[] {
  const out: Transition[] = [];
  const oldNodes = indexBy(before.nodes, (n) => n.name);
  const newNodes = indexBy(after.nodes, (n) => n.name);
  const newRetired = new Set(after.retired.map((r) => r.ip));

  if (before.name !== after.name) {
    out.push({ file: 'new', path: ['cluster', 'name'], message: `renames the PVE cluster ${before.name} → ${after.name}; Proxmox cannot rename a cluster` });
  }
  if (before.domain !== after.domain) {
    out.push({ file: 'new', path: ['cluster', 'domain'], message: `changes every hostname (${before.domain} → ${after.domain}); Proxmox breaks when node hostnames change` });
  }
  if (before.bootstrap.name !== after.bootstrap.name) {
    out.push({
      file: 'new',
      path: ['bootstrap_node'],
      message: `moves the bootstrap role ${before.bootstrap.name} → ${after.bootstrap.name}; the cluster exists already, so this only changes who would re-create it`,
    });
  }
  for (const { item: node, index } of oldNodes.values()) {
    if (newNodes.has(node.name)) continue;
    const where = { file: 'old' as const, path: ['nodes', index] as YamlPath };
    out.push({ ...where, message: `removes node ${node.name}: scenario 5 runs on it (VMs migrate away, it leaves the PVE cluster)` });
    if (node.isBootstrap) {
      out.push({ ...where, message: `${node.name} is the bootstrap node (the first master); removing it needs provisioning.allow_master_removal: true` });
    }
    if (!newRetired.has(node.ip)) {
      out.push({ ...where, message: `${node.ip} (${node.fqdn}) is not listed under retired: in the new file; add it so it is never reused` });
    }
  }
  for (const { item: node, index } of newNodes.values()) {
    const previous = oldNodes.get(node.name)?.item;
    if (previous) compareNode(previous, node, index, out);
  }
  for (const retired of before.retired) {
    if (!after.retired.some((r) => r.ip === retired.ip)) {
      out.push({ file: 'old', path: ['retired'], message: `forgets retired address ${retired.ip} (${retired.hostname}); it could be handed out again` });
    }
  }
  compareVms(before, after, out);
  for (const entry of before.wan.vmMgmtIps) {
    const now = after.wan.vmMgmtIps.find((e) => e.index === entry.index);
    const users = after.vms.filter((vm) => vm.externalIndex === entry.index).length;
    if (now && now.ip !== entry.ip && users > 0) {
      out.push({ file: 'new', path: ['wan', 'vm_mgmt_ips'], message: `moves VM-management index ${entry.index} ${entry.ip} → ${now.ip}: the public address of ${users} VM(s) changes` });
    }
  }
  if (before.gateway.node !== after.gateway.node) {
    out.push({ file: 'new', path: ['gateway', 'node'], message: `moves the gateway VM (VMID 100) ${before.gateway.node} → ${after.gateway.node}` });
  }
  return out;
}

function compareNode(before: NodeModel, after: NodeModel, index: number, out: Transition[]): void {
  const removed = before.disks.filter((d) => !after.disks.some((n) => n.device === d.device));
  for (const disk of removed) {
    out.push({ file: 'new', path: ['nodes', index, 'disks'], message: `drops chunk disk ${disk.device} from ${after.name}: MooseFS must re-replicate its chunks first (mark it for removal, wait for the goal)` });
  }
  for (const disk of after.disks) {
    const was = before.disks.find((d) => d.device === disk.device);
    if (was && was.filesystem !== disk.filesystem) {
      out.push({ file: 'new', path: ['nodes', index, 'disks'], message: `changes the filesystem of ${after.name}:${disk.device} (${was.filesystem} → ${disk.filesystem}); that means reformatting a disk holding chunks` });
    }
  }
  if (before.canBeMaster && !after.canBeMaster) {
    out.push({ file: 'new', path: ['nodes', index], message: `${after.name} can no longer be master; if it holds the role now, switch first (dlll_cias-switch_to_master.sh on another node)` });
  }
}

function compareVms(before: ClusterModel, after: ClusterModel, out: Transition[]): void {
  const newById = new Map(after.vms.map((vm) => [vm.vmid, vm]));
  const newByName = new Map(after.vms.map((vm) => [vm.name, vm]));
  for (const vm of before.vms) {
    const oldPath: YamlPath = ['vms', vm.sourceIndex];
    const same = newById.get(vm.vmid);
    if (!same) {
      const renumbered = newByName.get(vm.name);
      if (renumbered) {
        out.push({
          file: 'new',
          path: ['vms', renumbered.sourceIndex],
          message: `changes VM ${vm.name}'s VMID ${vm.vmid} → ${renumbered.vmid}: its IP (${vm.ip} → ${renumbered.ip}) and forwarded ports change, and the VM is destroyed and re-created`,
        });
      } else {
        out.push({ file: 'old', path: oldPath, message: `removes VM ${vm.vmid} (${vm.name}, ${vm.ip}): its disks are destroyed` });
      }
      continue;
    }
    const path: YamlPath = ['vms', same.sourceIndex];
    if (same.node !== vm.node) out.push({ file: 'new', path, message: `moves VM ${vm.vmid} (${vm.name}) ${vm.node} → ${same.node}` });
    if (same.mac !== vm.mac) out.push({ file: 'new', path, message: `changes VM ${vm.vmid}'s MAC ${vm.mac} → ${same.mac}: its DHCP reservation moves` });
    if (same.template !== vm.template) {
      out.push({ file: 'new', path, message: `changes VM ${vm.vmid}'s template ${vm.template} → ${same.template}: the VM would be re-cloned` });
    }
    const shrunk = vm.disks.filter((d) => (same.disks.find((n) => n.slot === d.slot)?.sizeGb ?? 0) < d.sizeGb);
    for (const disk of shrunk) {
      out.push({ file: 'new', path, message: `shrinks or drops VM ${vm.vmid}'s disk ${disk.slot} (${disk.sizeGb} GB): data loss` });
    }
  }
}
