/**
 * The lab's network, planned as data before anything is created (pure).
 *
 * One "switch" namespace holds a LAN bridge and a WAN bridge. Every node is a namespace with a veth
 * named like its Proxmox bridge (`vmbr0`) in the LAN bridge; its WAN side is a second veth in the WAN
 * bridge, or — when cluster.yaml puts the master external IP on the LAN interface, as the seed's
 * one-NIC nodes do — the same interface, and a patch cable joins the two bridges into one segment.
 * An uplink namespace on the WAN plays the upstream router and the address the watchdog probes.
 * The root namespace reaches the nodes through a /16 leg into the LAN bridge: never a 10/8 route in
 * the root namespace (the machine's resolver lives at 10.255.255.53).
 */
import { LAN } from '../model/addressing';
import { ipv4ToInt, intToIpv4, isIpv4, sameSubnet, subnetBounds } from '../model/ipv4';
import { HOST_LEG_INTERFACE, NAMESPACE_PREFIX } from './paths';

export interface LabNodeSpec {
  /** Proxmox node name, a DNS label; also the node's hostname and namespace suffix. */
  readonly name: string;
  /** Internal address, inside 10.254.0.0/16. */
  readonly ip: string;
  /** False for a node below the hardware minimum: it must never hold the master role. */
  readonly canBeMaster: boolean;
  /** @default `<name>.lab.invalid` */
  readonly fqdn?: string;
  /** @default `vmbr0` */
  readonly lanInterface?: string;
  /** Interface for the master external IP. @default the LAN interface (one NIC, as in the seed) */
  readonly wanInterface?: string;
  /** The node's own WAN address. @default host number 10 + the node's 1-based position */
  readonly wanIp?: string;
  /**
   * Data disks by device name (`sdb`), as cluster.yaml lists them: sparse files on loop devices that
   * appear as /dev/<name> inside the node only. @default none
   */
  readonly disks?: readonly string[];
}

export interface LabWanSpec {
  /** @default `192.168.56.0` */
  readonly network?: string;
  /** @default 24 */
  readonly prefix?: number;
  /** The uplink host's address, the nodes' default gateway. @default `192.168.56.1` */
  readonly gateway?: string;
  /** Floats with the master role. @default `192.168.56.101` */
  readonly masterIp?: string;
}

export interface LabTopologyInput {
  readonly nodes: readonly LabNodeSpec[];
  /** @default see {@link LabWanSpec} */
  readonly wan?: LabWanSpec;
  /** Internal master VIP. @default `10.254.0.254` */
  readonly vip?: string;
  /** Prefix of the internal addresses inside the node namespaces (SPEC: 255.0.0.0). @default 8 */
  readonly lanPrefix?: number;
  /** The "outside" address the watchdog probes, held by the uplink host. @default `198.51.100.1` */
  readonly uplinkProbeIp?: string;
  /** Root-namespace address on the /16 leg. @default `10.254.255.1` */
  readonly hostLegIp?: string;
  /**
   * Size of every lab disk (sparse: only written blocks use space). Above the chunkservers' 5 GiB
   * HDD_LEAVE_SPACE_DEFAULT, or MooseFS could store nothing. @default 12288
   */
  readonly diskSizeMiB?: number;
}

export interface InterfacePlan {
  readonly name: string;
  /** `address/prefix`, or undefined for a port without an address. */
  readonly cidr?: string;
}

export interface LabNodePlan {
  readonly name: string;
  readonly fqdn: string;
  readonly ip: string;
  readonly canBeMaster: boolean;
  readonly namespace: string;
  readonly lan: InterfacePlan;
  readonly wan: InterfacePlan;
  readonly wanIp: string;
  /** The veth ends in the switch namespace. */
  readonly switchLanPort: string;
  readonly switchWanPort?: string;
  /** Device names of the node's lab disks. */
  readonly disks: readonly string[];
}

export interface LabTopology {
  readonly switchNamespace: string;
  readonly lanBridge: string;
  readonly wanBridge: string;
  /** True when nodes carry LAN and WAN on one interface: the bridges are patched together. */
  readonly sharedSegment: boolean;
  readonly patchPorts: readonly [string, string];
  readonly hostLeg: { readonly name: string; readonly cidr: string; readonly network: string; readonly switchPort: string };
  readonly uplink: {
    readonly namespace: string;
    readonly interface: InterfacePlan;
    readonly probeIp: string;
    readonly switchPort: string;
  };
  readonly vip: string;
  readonly masterExternalIp: string;
  readonly wanGateway: string;
  readonly wanPrefix: number;
  readonly diskSizeMiB: number;
  readonly nodes: readonly LabNodePlan[];
}

export class LabTopologyError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`lab topology is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'LabTopologyError';
  }
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const RESERVED_NAMES = new Set(['switch', 'uplink']);
/** Linux interface names: at most 15 bytes, no slash, colon or whitespace. */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
/** A whole-disk name under /dev; loop names are the lab's own. */
const DISK_NAME = /^(?!loop)[a-z][a-z0-9]{1,15}$/;
/** The root-namespace leg is a /16: the node network, never more. */
const HOST_LEG_PREFIX = 16;

export function planTopology(input: LabTopologyInput): LabTopology {
  const problems: string[] = [];
  const wanNetwork = input.wan?.network ?? '192.168.56.0';
  const wanPrefix = input.wan?.prefix ?? 24;
  const wanGateway = input.wan?.gateway ?? '192.168.56.1';
  const masterExternalIp = input.wan?.masterIp ?? '192.168.56.101';
  const vip = input.vip ?? LAN.masterVip;
  const lanPrefix = input.lanPrefix ?? 8;
  const probeIp = input.uplinkProbeIp ?? '198.51.100.1';
  const hostLegIp = input.hostLegIp ?? '10.254.255.1';
  const diskSizeMiB = input.diskSizeMiB ?? 12288;
  if (!Number.isInteger(diskSizeMiB) || diskSizeMiB < 512) problems.push(`disk size ${diskSizeMiB} MiB must be an integer of at least 512 (XFS needs 300)`);
  const hostLegNetwork = isIpv4(hostLegIp) ? subnetBounds(hostLegIp, HOST_LEG_PREFIX).network : '';

  for (const [what, ip] of Object.entries({ wanNetwork, wanGateway, masterExternalIp, vip, probeIp, hostLegIp })) {
    if (!isIpv4(ip)) problems.push(`${what} ${ip} is not an IPv4 address`);
  }
  if (problems.length > 0) throw new LabTopologyError(problems);
  if (!Number.isInteger(wanPrefix) || wanPrefix < 8 || wanPrefix > 30) problems.push(`WAN prefix ${wanPrefix} must be 8..30`);
  if (!Number.isInteger(lanPrefix) || lanPrefix < 8 || lanPrefix > HOST_LEG_PREFIX) {
    problems.push(`LAN prefix ${lanPrefix} must be 8..16: the nodes must reach the root namespace's /16 leg`);
  }
  const inWan = (ip: string) => sameSubnet(ip, wanNetwork, wanPrefix);
  if (!inWan(wanGateway)) problems.push(`WAN gateway ${wanGateway} is outside ${wanNetwork}/${wanPrefix}`);
  if (!inWan(masterExternalIp)) problems.push(`master external IP ${masterExternalIp} is outside ${wanNetwork}/${wanPrefix}`);
  if (!sameSubnet(vip, hostLegIp, HOST_LEG_PREFIX)) problems.push(`VIP ${vip} is outside the root leg's ${hostLegNetwork}/16`);
  if (inWan(probeIp) || sameSubnet(probeIp, hostLegIp, HOST_LEG_PREFIX)) {
    problems.push(`uplink probe ${probeIp} must lie outside both the WAN and the node network (it plays the Internet)`);
  }

  if (input.nodes.length === 0) problems.push('a lab needs at least one node');
  if (input.nodes.length > 0 && !input.nodes.some((node) => node.canBeMaster)) {
    problems.push('no node can be master: keepalived would never elect one');
  }
  const shared = new Set(input.nodes.map((node) => (node.wanInterface ?? node.lanInterface ?? 'vmbr0') === (node.lanInterface ?? 'vmbr0')));
  if (shared.size > 1) {
    problems.push('either every node carries the WAN on its LAN interface or none does: the lab has one WAN wiring');
  }
  const sharedSegment = shared.has(true) || shared.size === 0;

  const taken = new Map<string, string>([
    [hostLegIp, 'the root namespace leg'],
    [vip, 'the VIP'],
    [wanGateway, 'the uplink host'],
    [masterExternalIp, 'the master external IP'],
  ]);
  const claim = (ip: string, owner: string) => {
    const holder = taken.get(ip);
    if (holder) problems.push(`${owner}: address ${ip} is already used by ${holder}`);
    else taken.set(ip, owner);
  };

  const names = new Set<string>();
  const nodes = input.nodes.map((spec, index): LabNodePlan => {
    const position = index + 1;
    const owner = `node ${spec.name}`;
    if (!DNS_LABEL.test(spec.name)) problems.push(`${owner}: name must be a lowercase DNS label`);
    if (RESERVED_NAMES.has(spec.name)) problems.push(`${owner}: name is reserved for the lab's own namespaces`);
    if (names.has(spec.name)) problems.push(`${owner}: duplicate name`);
    names.add(spec.name);
    if (!isIpv4(spec.ip)) problems.push(`${owner}: ${spec.ip} is not an IPv4 address`);
    else if (!sameSubnet(spec.ip, hostLegIp, HOST_LEG_PREFIX)) {
      problems.push(`${owner}: ${spec.ip} is outside ${hostLegNetwork}/16, which the root namespace reaches`);
    } else claim(spec.ip, owner);
    const lanName = spec.lanInterface ?? 'vmbr0';
    const wanName = spec.wanInterface ?? lanName;
    for (const ifname of new Set([lanName, wanName])) {
      if (!IFNAME.test(ifname) || ifname === 'lo') problems.push(`${owner}: ${ifname} is not a usable interface name`);
    }
    const disks = spec.disks ?? [];
    for (const disk of disks) if (!DISK_NAME.test(disk)) problems.push(`${owner}: ${disk} is not a disk name like sdb`);
    if (new Set(disks).size !== disks.length) problems.push(`${owner}: a disk is listed twice`);
    const wanIp = spec.wanIp ?? defaultWanIp(wanNetwork, position);
    if (!isIpv4(wanIp) || !inWan(wanIp)) problems.push(`${owner}: WAN address ${wanIp} is outside ${wanNetwork}/${wanPrefix}`);
    else {
      const { network, broadcast } = subnetBounds(wanIp, wanPrefix);
      if (wanIp === network || wanIp === broadcast) problems.push(`${owner}: WAN address ${wanIp} is not a host address`);
      claim(wanIp, `${owner} (WAN)`);
    }
    return {
      name: spec.name,
      fqdn: spec.fqdn ?? `${spec.name}.lab.invalid`,
      ip: spec.ip,
      canBeMaster: spec.canBeMaster,
      namespace: `${NAMESPACE_PREFIX}${spec.name}`,
      lan: { name: lanName, cidr: `${spec.ip}/${lanPrefix}` },
      wan: { name: wanName, cidr: `${wanIp}/${wanPrefix}` },
      wanIp,
      switchLanPort: `lan${position}`,
      switchWanPort: sharedSegment ? undefined : `wan${position}`,
      disks,
    };
  });
  if (problems.length > 0) throw new LabTopologyError(problems);

  return {
    switchNamespace: `${NAMESPACE_PREFIX}switch`,
    lanBridge: 'lan',
    wanBridge: 'wan',
    sharedSegment,
    patchPorts: ['patch-lan', 'patch-wan'],
    hostLeg: {
      name: HOST_LEG_INTERFACE,
      cidr: `${hostLegIp}/${HOST_LEG_PREFIX}`,
      network: `${hostLegNetwork}/${HOST_LEG_PREFIX}`,
      switchPort: 'host',
    },
    uplink: {
      namespace: `${NAMESPACE_PREFIX}uplink`,
      interface: { name: 'eth0', cidr: `${wanGateway}/${wanPrefix}` },
      probeIp,
      switchPort: 'uplink',
    },
    vip,
    masterExternalIp,
    wanGateway,
    wanPrefix,
    diskSizeMiB,
    nodes,
  };
}

function defaultWanIp(network: string, position: number): string {
  return intToIpv4(ipv4ToInt(network) + 10 + position);
}

/**
 * The default lab: three nodes, the third below the hardware minimum (it stores chunks but must
 * never become master), named as cluster.yaml names nodes in rack `lab`.
 */
export const DEFAULT_LAB_NODES: readonly LabNodeSpec[] = [
  { name: 'pve-lab-a-1-1', fqdn: 'pve.lab.a.1-1.example.com', ip: '10.254.1.1', canBeMaster: true, disks: ['sdb'] },
  { name: 'pve-lab-b-1-2', fqdn: 'pve.lab.b.1-2.example.com', ip: '10.254.1.2', canBeMaster: true, disks: ['sdb'] },
  { name: 'pve-lab-c-1-3', fqdn: 'pve.lab.c.1-3.example.com', ip: '10.254.1.3', canBeMaster: false, disks: ['sdb'] },
];
