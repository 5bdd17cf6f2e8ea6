/**
 * Turns a structurally valid document into the ClusterModel, checking every rule that relates fields to
 * each other on the way. One pass, linear in the number of VMs; every problem is collected.
 */
import {
  GATEWAY_VMID,
  LAN,
  MAX_VMID,
  RULE_TEXT,
  VMS_PER_EXTERNAL_INDEX,
  externalPortRange,
  hostNames,
  ipFromSlot,
  isNasIp,
  isNodeIp,
  isValidSlot,
  macForVmid,
  slotFromVmid,
  vmidFromSlot,
  VmSlotAddress,
} from './addressing';
import {
  ClusterModel,
  GatewayModel,
  NasModel,
  NodeModel,
  PortForward,
  Protocol,
  StateBackend,
  VmDisk,
  VmModel,
  WanModel,
} from './cluster';
import { netmaskToPrefix, sameSubnet, subnetBounds } from './ipv4';
import { formatPath, ProblemList, YamlPath } from './problems';
import { ClusterDocument, NodeDocument, VmDocument } from './schema';

export function buildCluster(doc: ClusterDocument, source: string, problems: ProblemList): ClusterModel | undefined {
  const retired = doc.retired.map((r) => ({ ip: r.ip, hostname: r.hostname.toLowerCase(), retiredOn: r.retired_on }));
  const retiredIps = new Set(retired.map((r) => r.ip));
  const retiredNames = new Set(retired.map((r) => r.hostname));

  const wan = buildWan(doc, problems);
  const nodes = buildNodes(doc, retiredIps, retiredNames, problems);
  const nas = buildNas(doc, nodes, retiredIps, retiredNames, problems);
  const bootstrap = findBootstrap(doc, nodes, problems);
  const nodeLookup = indexNodes(nodes);
  const gateway = buildGateway(doc, bootstrap, nodeLookup, problems);
  const vms = buildVms(doc, wan, nodeLookup, gateway, problems);
  checkVmManagementIpUse(doc, vms, problems);
  if (!bootstrap || !gateway) return undefined;

  return {
    source,
    name: doc.cluster.name,
    domain: doc.cluster.domain,
    notifyEmail: doc.cluster.notify_email,
    wan,
    keepalived: {
      virtualRouterId: doc.keepalived.virtual_router_id,
      advertInt: doc.keepalived.advert_int,
      unicast: doc.keepalived.unicast,
      auth: doc.keepalived.auth,
    },
    moosefs: { trashTimeSeconds: doc.moosefs.trash_time_seconds, goal: doc.moosefs.goal },
    nodes,
    bootstrap,
    retired,
    nas,
    gateway,
    vms,
    schedules: {
      gatewayBackup: doc.schedules.gateway_backup,
      vmBackup: doc.schedules.vm_backup,
      gatewayBackupCopy: doc.schedules.gateway_backup_copy,
      uplinkWatchdog: doc.schedules.uplink_watchdog,
      vmidExport: doc.schedules.vmid_export,
      liveness: doc.schedules.liveness,
    },
    watchdog: {
      probeTarget: doc.watchdog.probe_target,
      shutdownDelayMinutes: doc.watchdog.shutdown_delay_minutes,
    },
    liveness: { deadAfterMinutes: doc.liveness.dead_after_minutes },
    provisioning: {
      resourceType: doc.provisioning.resource_type,
      bastion: doc.provisioning.bastion,
      allowMasterRemoval: doc.provisioning.allow_master_removal,
      sshKeyFile: doc.provisioning.ssh_key_file,
    },
    state: stateBackend(doc.state),
    proxmox: {
      apiUrl: doc.proxmox.api_url ?? `https://${doc.wan.master_ip}:8006/api2/json`,
      tlsInsecure: doc.proxmox.tls_insecure,
      parallel: doc.proxmox.parallel,
      minimumPermissionCheck: doc.proxmox.minimum_permission_check,
    },
  };
}

function reportDuplicate(problems: ProblemList, what: string, path: YamlPath, first: YamlPath, value: unknown): void {
  problems.error(path, `duplicates the ${what} of ${formatPath(first)}`, value);
}

/** Reports every later occurrence of a key already seen, pointing at both places. */
class UniqueIndex<T> {
  private readonly seen = new Map<string, YamlPath>();

  constructor(
    private readonly what: string,
    private readonly problems: ProblemList,
  ) {}

  claim(key: string, path: YamlPath, value: T): boolean {
    const first = this.seen.get(key);
    if (first) {
      reportDuplicate(this.problems, this.what, path, first, value);
      return false;
    }
    this.seen.set(key, path);
    return true;
  }
}

function buildWan(doc: ClusterDocument, problems: ProblemList): WanModel {
  const w = doc.wan;
  const prefixLength = netmaskToPrefix(w.netmask);
  if (prefixLength === undefined || prefixLength < 8 || prefixLength > 30) {
    problems.error(['wan', 'netmask'], 'is not a contiguous netmask between /8 and /30', w.netmask);
  }
  const prefix = prefixLength ?? 24;
  const addresses = new UniqueIndex<string>('address', problems);
  const inSubnet = (path: YamlPath, ip: string) => {
    addresses.claim(ip, path, ip);
    if (path[1] === 'gateway' || prefixLength === undefined) return;
    const { network, broadcast } = subnetBounds(w.gateway, prefix);
    if (!sameSubnet(ip, w.gateway, prefix)) {
      problems.error(path, `is outside the WAN subnet ${network}/${prefix} (gateway ${w.gateway}, netmask ${w.netmask})`, ip);
    } else if (ip === network || ip === broadcast) {
      problems.error(path, `is the network or broadcast address of ${network}/${prefix}`, ip);
    }
  };
  inSubnet(['wan', 'gateway'], w.gateway);
  inSubnet(['wan', 'master_ip'], w.master_ip);
  inSubnet(['wan', 'proxmox_mgmt_ip'], w.proxmox_mgmt_ip);
  inSubnet(['wan', 'nas_mgmt_ip'], w.nas_mgmt_ip);
  const indices = new UniqueIndex<number>('index', problems);
  w.vm_mgmt_ips.forEach((entry, i) => {
    indices.claim(String(entry.index), ['wan', 'vm_mgmt_ips', i, 'index'], entry.index);
    inSubnet(['wan', 'vm_mgmt_ips', i, 'ip'], entry.ip);
  });
  return {
    netmask: w.netmask,
    prefixLength: prefix,
    gateway: w.gateway,
    masterIp: w.master_ip,
    proxmoxMgmtIp: w.proxmox_mgmt_ip,
    nasMgmtIp: w.nas_mgmt_ip,
    vmMgmtIps: [...w.vm_mgmt_ips].sort((x, y) => x.index - y.index).map((e) => ({ index: e.index, ip: e.ip })),
  };
}

function checkRetired(
  path: YamlPath,
  ip: string,
  fqdn: string,
  retiredIps: ReadonlySet<string>,
  retiredNames: ReadonlySet<string>,
  problems: ProblemList,
): void {
  if (retiredIps.has(ip)) {
    problems.error([...path, 'ip'], 'belongs to a retired host; retired addresses are never reused (take the next free one)', ip);
  }
  if (retiredNames.has(fqdn)) {
    problems.error(path, `has hostname ${fqdn}, which belongs to a retired host; Proxmox breaks when a hostname comes back`);
  }
}

function buildNodes(
  doc: ClusterDocument,
  retiredIps: ReadonlySet<string>,
  retiredNames: ReadonlySet<string>,
  problems: ProblemList,
): NodeModel[] {
  const ips = new UniqueIndex<string>('ip', problems);
  const names = new UniqueIndex<string>('hostname', problems);
  return doc.nodes.map((node, i) => {
    const path: YamlPath = ['nodes', i];
    if (!isNodeIp(node.ip)) problems.error([...path, 'ip'], `is outside ${RULE_TEXT.nodeIp}`, node.ip);
    ips.claim(node.ip, [...path, 'ip'], node.ip);
    const { fqdn, name } = hostNames('pve', node.rack, node.position, node.ip, doc.cluster.domain);
    names.claim(fqdn, path, fqdn);
    checkRetired(path, node.ip, fqdn, retiredIps, retiredNames, problems);
    if (!node.meets_minimum && node.priority !== 50 && node.priority !== 0) {
      problems.warning([...path, 'priority'], 'is ignored: a node below the hardware minimum never becomes master', node.priority);
    }
    return toNodeModel(node, i, name, fqdn, doc, problems);
  });
}

function toNodeModel(
  node: NodeDocument,
  index: number,
  name: string,
  fqdn: string,
  doc: ClusterDocument,
  problems: ProblemList,
): NodeModel {
  const devices = new UniqueIndex<string>('device', problems);
  node.disks.forEach((disk, d) => devices.claim(disk.device, ['nodes', index, 'disks', d, 'device'], disk.device));
  return {
    name,
    fqdn,
    rack: node.rack,
    position: node.position,
    ip: node.ip,
    priority: node.priority,
    meetsMinimum: node.meets_minimum,
    canBeMaster: node.meets_minimum && node.priority > 0,
    isBootstrap: node.ip === doc.bootstrap_node,
    lanInterface: node.lan_interface,
    wanInterface: node.wan_interface,
    disks: node.disks.map((disk) => ({
      device: disk.device,
      filesystem: disk.filesystem,
      force: disk.force,
      mountPoint: `/data/${disk.device}`,
    })),
    ssh: { host: node.ssh.host ?? node.ip, port: node.ssh.port, user: node.ssh.user },
  };
}

function buildNas(
  doc: ClusterDocument,
  nodes: readonly NodeModel[],
  retiredIps: ReadonlySet<string>,
  retiredNames: ReadonlySet<string>,
  problems: ProblemList,
): NasModel[] {
  const ips = new UniqueIndex<string>('ip', problems);
  const nodeIps = new Set(nodes.map((n) => n.ip));
  return doc.nas.map((nas, i) => {
    const path: YamlPath = ['nas', i];
    if (!isNasIp(nas.ip)) problems.error([...path, 'ip'], `is outside ${RULE_TEXT.nasIp}`, nas.ip);
    if (nodeIps.has(nas.ip)) problems.error([...path, 'ip'], 'is already a node address', nas.ip);
    ips.claim(nas.ip, [...path, 'ip'], nas.ip);
    const { fqdn, name } = hostNames('nas', nas.rack, nas.position, nas.ip, doc.cluster.domain);
    checkRetired(path, nas.ip, fqdn, retiredIps, retiredNames, problems);
    return {
      name,
      fqdn,
      ip: nas.ip,
      exportPath: nas.export_path ?? `/export/${fqdn}`,
      content: nas.content,
      webPort: nas.web_port,
    };
  });
}

function findBootstrap(doc: ClusterDocument, nodes: readonly NodeModel[], problems: ProblemList): NodeModel | undefined {
  const bootstrap = nodes.find((n) => n.ip === doc.bootstrap_node);
  if (!bootstrap) {
    problems.error(['bootstrap_node'], `is not the ip of any node in nodes (${nodes.map((n) => n.ip).join(', ')})`, doc.bootstrap_node);
    return undefined;
  }
  if (!bootstrap.canBeMaster) {
    problems.error(
      ['bootstrap_node'],
      'names a node that can never be master (below the hardware minimum or priority 0); the bootstrap node becomes the first master',
      doc.bootstrap_node,
    );
  }
  if (!nodes.some((n) => n.canBeMaster)) {
    problems.error(['nodes'], 'has no node that can be master (every node is below the hardware minimum or has priority 0)');
  }
  return bootstrap;
}

type NodeLookup = ReadonlyMap<string, NodeModel>;

function indexNodes(nodes: readonly NodeModel[]): NodeLookup {
  const lookup = new Map<string, NodeModel>();
  for (const node of nodes) {
    lookup.set(node.name, node);
    lookup.set(node.ip, node);
  }
  return lookup;
}

function buildGateway(
  doc: ClusterDocument,
  bootstrap: NodeModel | undefined,
  nodes: NodeLookup,
  problems: ProblemList,
): GatewayModel | undefined {
  const g = doc.gateway;
  if (g.vmid !== GATEWAY_VMID) {
    problems.error(['gateway', 'vmid'], `must be ${GATEWAY_VMID}: the gateway's VMID is fixed`, g.vmid);
  }
  let node = bootstrap;
  if (g.node !== undefined) {
    node = nodes.get(g.node);
    if (!node) problems.error(['gateway', 'node'], 'is not the name or ip of any node', g.node);
    else if (!node.canBeMaster) problems.error(['gateway', 'node'], 'can never be master, but the gateway runs on the master', g.node);
  }
  if (!node) return undefined;
  return {
    vmid: GATEWAY_VMID,
    name: 'cias-router',
    node: node.name,
    template: g.template,
    fullClone: g.full_clone,
    storage: g.storage,
    memoryMb: g.memory_mb,
    diskGb: g.disk_gb,
    cores: g.cores,
    mac: macForVmid(GATEWAY_VMID),
    lanIp: LAN.gatewayIp,
    wanInterface: g.wan_interface,
    lanInterface: g.lan_interface,
    ssh: { host: g.ssh.host ?? LAN.gatewayIp, port: g.ssh.port, user: g.ssh.user },
    dnsNames: g.dns_names,
    reverseProxies: g.reverse_proxies.map((r) => ({ serverName: r.server_name, upstream: r.upstream })),
    redirects: g.redirects.map((r) => ({ fromHost: r.from_host, toUrl: r.to_url })),
  };
}

function resolveSlot(vm: VmDocument, path: YamlPath, problems: ProblemList): VmSlotAddress | undefined {
  if (vm.vmid === undefined && vm.slot === undefined) {
    problems.error(path, 'needs a vmid or a slot {e, a, b}');
    return undefined;
  }
  let fromVmid: VmSlotAddress | undefined;
  if (vm.vmid !== undefined) {
    fromVmid = slotFromVmid(vm.vmid);
    if (!fromVmid) {
      const rule = vm.vmid === GATEWAY_VMID ? `is the gateway's VMID; tenant VMIDs are ${RULE_TEXT.vmid}` : `is not a tenant VMID: ${RULE_TEXT.vmid}`;
      problems.error([...path, 'vmid'], rule, vm.vmid);
      return undefined;
    }
  }
  if (vm.slot !== undefined) {
    const fromSlot = { externalIndex: vm.slot.e, a: vm.slot.a, b: vm.slot.b };
    if (!isValidSlot(fromSlot)) return undefined;
    if (fromVmid && vmidFromSlot(fromVmid) !== vmidFromSlot(fromSlot)) {
      problems.error([...path, 'slot'], `disagrees with vmid ${vm.vmid} (slot gives ${vmidFromSlot(fromSlot)})`, vm.slot);
      return undefined;
    }
    return fromSlot;
  }
  return fromVmid;
}

/**
 * Remembers where each key was first seen, by list position: the paths of a duplicate's message are
 * only built when there is one (124,245 VMs claim three keys each).
 */
class FirstSeen<K> {
  private readonly seen = new Map<K, number>();

  /** The position that claimed `key` first, or undefined when `at` is the first. */
  claim(key: K, at: number): number | undefined {
    const first = this.seen.get(key);
    if (first === undefined) this.seen.set(key, at);
    return first;
  }
}

/** FirstSeen for tenant VMIDs (0..MAX_VMID): an array slot per VMID instead of a hash table. */
class VmidIndex {
  private readonly firstPlusOne = new Int32Array(MAX_VMID + 1);

  claim(vmid: number, at: number): number | undefined {
    const first = this.firstPlusOne[vmid];
    if (first !== 0) return first - 1;
    this.firstPlusOne[vmid] = at + 1;
    return undefined;
  }
}

function buildVms(
  doc: ClusterDocument,
  wan: WanModel,
  nodes: NodeLookup,
  gateway: GatewayModel | undefined,
  problems: ProblemList,
): VmModel[] {
  const externalIps = new Map(wan.vmMgmtIps.map((e) => [e.index, e.ip]));
  const vmids = new VmidIndex();
  const names = new FirstSeen<string>();
  // MACs derived from VMIDs are distinct (VMID → MAC is one to one, and tenant VMIDs never give the
  // gateway's), so only a file where some VM names its own MAC needs the MAC index.
  const macs = doc.vms.some((vm) => vm.mac !== undefined) ? new FirstSeen<string>() : undefined;
  /** Where a VM's MAC comes from: its `mac`, or its VMID (the entry itself); -1 is the gateway. */
  const macPath = (at: number): YamlPath => (at < 0 ? ['gateway'] : doc.vms[at].mac ? ['vms', at, 'mac'] : ['vms', at]);
  if (gateway) macs?.claim(gateway.mac, -1);
  const defaults = doc.vm_defaults;
  // VMs without their own disks share one list (the model is read-only), so they also share a shape.
  const defaultDisks: readonly VmDisk[] = Object.freeze([Object.freeze({ slot: 'scsi0', sizeGb: defaults.disk_gb, storage: defaults.storage })]);
  const vms: VmModel[] = [];
  doc.vms.forEach((vm, i) => {
    const path: YamlPath = ['vms', i];
    const firstName = names.claim(vm.name, i);
    if (firstName !== undefined) reportDuplicate(problems, 'name', ['vms', i, 'name'], ['vms', firstName, 'name'], vm.name);
    const slot = resolveSlot(vm, path, problems);
    const node = nodes.get(vm.node);
    if (!node) problems.error([...path, 'node'], 'is not the name or ip of any node in nodes', vm.node);
    const template = vm.template ?? defaults.template;
    if (template === undefined) problems.error(path, 'names no template and vm_defaults.template is not set');
    if (!slot) return;
    const vmid = vmidFromSlot(slot);
    const firstVmid = vmids.claim(vmid, i);
    if (firstVmid !== undefined) {
      reportDuplicate(problems, 'vmid', path, ['vms', firstVmid], vmid);
      return;
    }
    const externalIp = externalIps.get(slot.externalIndex);
    if (externalIp === undefined) {
      problems.error(
        path,
        `needs VM-management IP index ${slot.externalIndex} (VMID ${vmid}), which wan.vm_mgmt_ips does not define`,
      );
    }
    const mac = vm.mac === undefined ? macForVmid(vmid) : vm.mac.toUpperCase();
    const firstMac = macs?.claim(mac, i);
    if (firstMac !== undefined) reportDuplicate(problems, 'MAC', macPath(i), macPath(firstMac), mac);
    const ports = externalPortRange(slot);
    const portOverrides = vm.ports.length === 0 ? NO_PORT_OVERRIDES : buildPortOverrides(vm, path, ports, problems);
    if (!node || template === undefined || externalIp === undefined) return;
    vms.push({
      vmid,
      name: vm.name,
      externalIndex: slot.externalIndex,
      a: slot.a,
      b: slot.b,
      ip: ipFromSlot(slot),
      externalIp,
      ports,
      portOverrides,
      node: node.name,
      template,
      fullClone: vm.full_clone ?? defaults.full_clone,
      cores: vm.cores ?? defaults.cores,
      sockets: vm.sockets ?? defaults.sockets,
      memoryMb: vm.memory_mb ?? defaults.memory_mb,
      disks: vm.disks === undefined ? defaultDisks : vm.disks.map((d) => ({ slot: d.slot, sizeGb: d.size_gb, storage: d.storage })),
      mac,
      cloudInit: vm.cloud_init ?? defaults.cloud_init,
      onboot: vm.onboot ?? defaults.onboot,
      tags: vm.tags,
      dnsNames: vm.dns_names,
      description: vm.description,
      sourceIndex: i,
    });
  });
  return vms.sort((x, y) => x.vmid - y.vmid);
}

const NO_PORT_OVERRIDES: readonly PortForward[] = Object.freeze([]);

function buildPortOverrides(
  vm: VmDocument,
  path: YamlPath,
  range: { first: number; last: number },
  problems: ProblemList,
): PortForward[] {
  const forwards: PortForward[] = [];
  const taken = new UniqueIndex<number>('external port and protocol', problems);
  vm.ports.forEach((override, i) => {
    const overridePath: YamlPath = [...path, 'ports', i, 'external'];
    if (override.external < range.first || override.external > range.last) {
      problems.error(overridePath, `is outside this VM's external ports ${range.first}..${range.last}`, override.external);
      return;
    }
    const protocols: Protocol[] = override.protocol === 'both' ? ['tcp', 'udp'] : [override.protocol];
    for (const protocol of protocols) {
      if (taken.claim(`${override.external}/${protocol}`, overridePath, override.external)) {
        forwards.push({ externalPort: override.external, internalPort: override.internal, protocol });
      }
    }
  });
  return forwards;
}

function checkVmManagementIpUse(doc: ClusterDocument, vms: readonly VmModel[], problems: ProblemList): void {
  const used = new Set(vms.map((vm) => vm.externalIndex));
  doc.wan.vm_mgmt_ips.forEach((entry, i) => {
    if (!used.has(entry.index)) {
      problems.warning(
        ['wan', 'vm_mgmt_ips', i],
        `serves no VM yet (index ${entry.index}); each index serves up to ${VMS_PER_EXTERNAL_INDEX} VMs, so this external IP is spare`,
        entry.ip,
      );
    }
  });
}

function stateBackend(state: ClusterDocument['state']): StateBackend {
  switch (state.backend) {
    case 'local':
      return { backend: 'local', directory: state.directory };
    case 'pg':
      return { backend: 'pg', schemaPrefix: state.schema_prefix };
    case 's3':
      return {
        backend: 's3',
        bucket: state.bucket,
        keyPrefix: state.key_prefix,
        region: state.region,
        endpoint: state.endpoint,
        dynamodbTable: state.dynamodb_table,
      };
    case 'http':
      return { backend: 'http', address: state.address.replace(/\/+$/, '') };
  }
}
