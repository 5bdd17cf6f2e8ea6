/**
 * The per-node files the cias scripts read at run time (docs/ARCHITECTURE.md):
 * - /etc/cias/cias.conf: shell assignments, sourced by every script; exactly the variables the
 *   architecture lists, every value single-quoted so no value is ever expanded or split;
 * - /etc/cias/nodes.conf: one line per cluster node, `<ip> <name> <fqdn> <can_be_master 0/1>`;
 * - /etc/cias/disks.conf: the chunk disks cias-prepare-disks may format, `<device> <fs> <force>`.
 * The scripts themselves are the same on every node (render/scripts).
 */
import { isIpv4 } from '../model/ipv4';
import { shellQuote } from './install-bundle';

/** Re-exported: cias.conf values are quoted by the same rule as every pushed shell word. */
export { shellQuote };

export interface NodeRuntimeParams {
  /** Proxmox VE cluster name. @default 'DLLL-CIAS' */
  readonly clusterName?: string;
  readonly domain: string;
  /** Proxmox node name (a DNS label), e.g. pve-master-rack-a-1-1. */
  readonly nodeName: string;
  /** e.g. pve.master-rack.a.1-1.example.com */
  readonly nodeFqdn: string;
  /** Internal IP of the node. */
  readonly nodeIp: string;
  /** False for nodes below the hardware minimum: they never act as master. */
  readonly canBeMaster: boolean;
  /** Interface of the internal VIP (usually vmbr0). */
  readonly lanInterface: string;
  /** Interface of the master external IP. */
  readonly wanInterface: string;
  /** Internal master VIP (cias-pve-master). @default '10.254.0.254' */
  readonly vip?: string;
  /** External IP that floats with the master role. */
  readonly masterExternalIp: string;
  /** Prefix length of the external network. */
  readonly wanPrefix: number;
  /** Internal IP of the node that created the cluster. */
  readonly bootstrapIp: string;
  /** VMID of the gateway VM. @default 100 */
  readonly gatewayVmid?: number;
  /** MooseFS mount point. @default '/mnt/mfs' */
  readonly mfsMount?: string;
  /** Files shared through MooseFS (the exported VMID list). @default '/mnt/mfs/cias' */
  readonly sharedDir?: string;
  /** Management data (SPEC §7 scenario 1). @default '/data/cias' */
  readonly stateDir?: string;
  /** Address the uplink watchdog pings. @default '8.8.8.8' */
  readonly uplinkProbe?: string;
  /** Minutes between a lost uplink and the power-off. @default 15 */
  readonly shutdownDelayMinutes?: number;
  /** Minutes of silence after which the master deletes a node (scenario 6). @default 30 */
  readonly deadAfterMinutes?: number;
  /** Where notices go; empty: they are only logged. @default '' */
  readonly notifyEmail?: string;
  /** Storage for VM disks and the weekly VM backups. @default 'a_mfs' */
  readonly storageVm?: string;
  /** Storage for the gateway backups. @default 'mfs-backup' */
  readonly storageBackup?: string;
  /** Local copy of the newest gateway backup. @default '/var/lib/vz/dump/zentyal.tar.vma' */
  readonly localGatewayDump?: string;
}

/** One line of nodes.conf. */
export interface NodesConfEntry {
  readonly ip: string;
  /** Proxmox node name. */
  readonly name: string;
  readonly fqdn: string;
  readonly canBeMaster: boolean;
}

/** One line of disks.conf. */
export interface DisksConfEntry {
  /** Block device, `/dev/sdb` or `sdb`; mounted at /data/<name>. */
  readonly device: string;
  /** Filesystem cias-prepare-disks creates. */
  readonly filesystem: 'xfs' | 'ext4';
  /** Allow wiping a device that already holds a filesystem or partition table. */
  readonly force: boolean;
}

export const CIAS_CONF_PATH = '/etc/cias/cias.conf';
export const NODES_CONF_PATH = '/etc/cias/nodes.conf';
export const DISKS_CONF_PATH = '/etc/cias/disks.conf';

export const DEFAULT_CLUSTER_NAME = 'DLLL-CIAS';
export const DEFAULT_VIP = '10.254.0.254';
export const DEFAULT_GATEWAY_VMID = 100;
export const DEFAULT_MFS_MOUNT = '/mnt/mfs';
export const DEFAULT_SHARED_DIR = '/mnt/mfs/cias';
export const DEFAULT_STATE_DIR = '/data/cias';
export const DEFAULT_UPLINK_PROBE = '8.8.8.8';
export const DEFAULT_SHUTDOWN_DELAY_MINUTES = 15;
export const DEFAULT_DEAD_AFTER_MINUTES = 30;
export const DEFAULT_STORAGE_VM = 'a_mfs';
export const DEFAULT_STORAGE_BACKUP = 'mfs-backup';
export const DEFAULT_LOCAL_GATEWAY_DUMP = '/var/lib/vz/dump/zentyal.tar.vma';

const MANAGED = '# Managed by cias (render/node-config.ts); local edits are overwritten on the next deploy.';


const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const INTERFACE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const CLUSTER_NAME = /^[A-Za-z0-9-]{1,15}$/;
/** Proxmox storage IDs (REFERENCE 1.3). */
const STORAGE_ID = /^[a-z][a-z0-9._-]*[a-z0-9]$/i;
const ABSOLUTE_PATH = /^(\/[A-Za-z0-9._+-]+)+$/;
const EMAIL = /^[^\s@'"]+@[^\s@'"]+\.[^\s@'"]+$/;

class Problems {
  readonly list: string[] = [];
  check(ok: boolean, message: string): void {
    if (!ok) this.list.push(message);
  }
  throwIfAny(what: string): void {
    if (this.list.length > 0) throw new Error(`${what}:\n${this.list.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const isWholeInRange = (value: number, min: number, max: number) => Number.isInteger(value) && value >= min && value <= max;
const isPath = (value: string) => ABSOLUTE_PATH.test(value) && !value.split('/').some((part) => part === '.' || part === '..');

/** /etc/cias/cias.conf for one node. Throws listing every invalid parameter. */
export function renderCiasConf(params: NodeRuntimeParams): string {
  const values: ReadonlyArray<readonly [string, string]> = [
    ['CIAS_CLUSTER_NAME', params.clusterName ?? DEFAULT_CLUSTER_NAME],
    ['CIAS_DOMAIN', params.domain],
    ['CIAS_NODE_NAME', params.nodeName],
    ['CIAS_NODE_FQDN', params.nodeFqdn],
    ['CIAS_NODE_IP', params.nodeIp],
    ['CIAS_CAN_BE_MASTER', params.canBeMaster ? '1' : '0'],
    ['CIAS_LAN_IF', params.lanInterface],
    ['CIAS_WAN_IF', params.wanInterface],
    ['CIAS_VIP', params.vip ?? DEFAULT_VIP],
    ['CIAS_MASTER_EXT_IP', params.masterExternalIp],
    ['CIAS_WAN_PREFIX', String(params.wanPrefix)],
    ['CIAS_BOOTSTRAP_IP', params.bootstrapIp],
    ['CIAS_GATEWAY_VMID', String(params.gatewayVmid ?? DEFAULT_GATEWAY_VMID)],
    ['CIAS_MFS_MOUNT', params.mfsMount ?? DEFAULT_MFS_MOUNT],
    ['CIAS_SHARED_DIR', params.sharedDir ?? DEFAULT_SHARED_DIR],
    ['CIAS_STATE_DIR', params.stateDir ?? DEFAULT_STATE_DIR],
    ['CIAS_UPLINK_PROBE', params.uplinkProbe ?? DEFAULT_UPLINK_PROBE],
    ['CIAS_SHUTDOWN_DELAY_MIN', String(params.shutdownDelayMinutes ?? DEFAULT_SHUTDOWN_DELAY_MINUTES)],
    ['CIAS_DEAD_AFTER_MIN', String(params.deadAfterMinutes ?? DEFAULT_DEAD_AFTER_MINUTES)],
    ['CIAS_NOTIFY_EMAIL', params.notifyEmail ?? ''],
    ['CIAS_STORAGE_VM', params.storageVm ?? DEFAULT_STORAGE_VM],
    ['CIAS_STORAGE_BACKUP', params.storageBackup ?? DEFAULT_STORAGE_BACKUP],
    ['CIAS_LOCAL_GATEWAY_DUMP', params.localGatewayDump ?? DEFAULT_LOCAL_GATEWAY_DUMP],
  ];
  validateRuntime(Object.fromEntries(values) as Record<string, string>, params);
  return [MANAGED, `# Node ${params.nodeName}: read by the scripts in /usr/local/sbin through /usr/local/lib/cias/common.sh.`]
    .concat(values.map(([name, value]) => `${name}=${shellQuote(value)}`))
    .join('\n')
    .concat('\n');
}

function validateRuntime(v: Record<string, string>, params: NodeRuntimeParams): void {
  const p = new Problems();
  p.check(CLUSTER_NAME.test(v.CIAS_CLUSTER_NAME), `clusterName ${JSON.stringify(v.CIAS_CLUSTER_NAME)} is not a Proxmox cluster name (letters, digits, dashes, ≤ 15)`);
  p.check(DOMAIN.test(v.CIAS_DOMAIN), `domain ${JSON.stringify(v.CIAS_DOMAIN)} is not a domain name`);
  p.check(DNS_LABEL.test(v.CIAS_NODE_NAME), `nodeName ${JSON.stringify(v.CIAS_NODE_NAME)} is not a DNS label`);
  p.check(DOMAIN.test(v.CIAS_NODE_FQDN), `nodeFqdn ${JSON.stringify(v.CIAS_NODE_FQDN)} is not a host name`);
  for (const [field, name] of [
    ['nodeIp', 'CIAS_NODE_IP'],
    ['vip', 'CIAS_VIP'],
    ['masterExternalIp', 'CIAS_MASTER_EXT_IP'],
    ['bootstrapIp', 'CIAS_BOOTSTRAP_IP'],
  ] as const) {
    p.check(isIpv4(v[name]), `${field} ${JSON.stringify(v[name])} is not an IPv4 address`);
  }
  p.check(v.CIAS_NODE_IP !== v.CIAS_VIP, `nodeIp ${v.CIAS_NODE_IP} equals the VIP; a node's own address must not float`);
  p.check(INTERFACE.test(params.lanInterface), `lanInterface ${JSON.stringify(params.lanInterface)} is not an interface name`);
  p.check(INTERFACE.test(params.wanInterface), `wanInterface ${JSON.stringify(params.wanInterface)} is not an interface name`);
  p.check(isWholeInRange(params.wanPrefix, 1, 32), `wanPrefix ${params.wanPrefix} is not an integer in 1..32`);
  const vmid = params.gatewayVmid ?? DEFAULT_GATEWAY_VMID;
  p.check(isWholeInRange(vmid, 100, 999_999_999), `gatewayVmid ${vmid} is not a Proxmox VMID (100..999999999)`);
  for (const [field, name] of [
    ['mfsMount', 'CIAS_MFS_MOUNT'],
    ['sharedDir', 'CIAS_SHARED_DIR'],
    ['stateDir', 'CIAS_STATE_DIR'],
    ['localGatewayDump', 'CIAS_LOCAL_GATEWAY_DUMP'],
  ] as const) {
    p.check(isPath(v[name]), `${field} ${JSON.stringify(v[name])} is not an absolute path of plain names`);
  }
  p.check(
    v.CIAS_SHARED_DIR.startsWith(`${v.CIAS_MFS_MOUNT}/`),
    `sharedDir ${v.CIAS_SHARED_DIR} is not inside mfsMount ${v.CIAS_MFS_MOUNT}: every node must see it`,
  );
  p.check(
    isIpv4(v.CIAS_UPLINK_PROBE) || DOMAIN.test(v.CIAS_UPLINK_PROBE),
    `uplinkProbe ${JSON.stringify(v.CIAS_UPLINK_PROBE)} is neither an IPv4 address nor a host name`,
  );
  const delay = params.shutdownDelayMinutes ?? DEFAULT_SHUTDOWN_DELAY_MINUTES;
  p.check(isWholeInRange(delay, 1, 1440), `shutdownDelayMinutes ${delay} is not an integer in 1..1440`);
  const deadAfter = params.deadAfterMinutes ?? DEFAULT_DEAD_AFTER_MINUTES;
  p.check(isWholeInRange(deadAfter, 1, 10080), `deadAfterMinutes ${deadAfter} is not an integer in 1..10080`);
  p.check(v.CIAS_NOTIFY_EMAIL === '' || EMAIL.test(v.CIAS_NOTIFY_EMAIL), `notifyEmail ${JSON.stringify(v.CIAS_NOTIFY_EMAIL)} is not an e-mail address`);
  for (const [field, name] of [
    ['storageVm', 'CIAS_STORAGE_VM'],
    ['storageBackup', 'CIAS_STORAGE_BACKUP'],
  ] as const) {
    p.check(STORAGE_ID.test(v[name]), `${field} ${JSON.stringify(v[name])} is not a Proxmox storage ID`);
  }
  p.check(v.CIAS_STORAGE_VM !== v.CIAS_STORAGE_BACKUP, `storageVm and storageBackup are both ${v.CIAS_STORAGE_VM}`);
  p.throwIfAny(`invalid node runtime parameters for ${JSON.stringify(params.nodeName)}`);
}

/** /etc/cias/nodes.conf: every cluster node, in the order given. */
export function renderNodesConf(nodes: readonly NodesConfEntry[]): string {
  const p = new Problems();
  const names = new Set<string>();
  const ips = new Set<string>();
  for (const node of nodes) {
    p.check(isIpv4(node.ip), `node ${JSON.stringify(node.name)}: ip ${JSON.stringify(node.ip)} is not an IPv4 address`);
    p.check(DNS_LABEL.test(node.name), `node name ${JSON.stringify(node.name)} is not a DNS label`);
    p.check(DOMAIN.test(node.fqdn), `node ${JSON.stringify(node.name)}: fqdn ${JSON.stringify(node.fqdn)} is not a host name`);
    p.check(!names.has(node.name), `node name ${node.name} appears twice`);
    p.check(!ips.has(node.ip), `node ip ${node.ip} appears twice`);
    names.add(node.name);
    ips.add(node.ip);
  }
  p.check(nodes.length > 0, 'nodes.conf needs at least one node');
  p.throwIfAny('invalid nodes.conf entries');
  return [MANAGED, '# <ip> <proxmox-name> <fqdn> <can_be_master 0/1>']
    .concat(nodes.map((n) => `${n.ip} ${n.name} ${n.fqdn} ${n.canBeMaster ? 1 : 0}`))
    .join('\n')
    .concat('\n');
}

const DEVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** /etc/cias/disks.conf: the only devices cias-prepare-disks may touch. An empty list is valid. */
export function renderDisksConf(disks: readonly DisksConfEntry[]): string {
  const p = new Problems();
  const devices = new Set<string>();
  const lines = disks.map((disk) => {
    const device = disk.device.startsWith('/dev/') ? disk.device : `/dev/${disk.device}`;
    const name = device.slice('/dev/'.length);
    p.check(DEVICE_NAME.test(name), `disk ${JSON.stringify(disk.device)} is not a device name under /dev (sdb, /dev/nvme1n1)`);
    p.check(disk.filesystem === 'xfs' || disk.filesystem === 'ext4', `disk ${disk.device}: filesystem ${JSON.stringify(disk.filesystem)} is not xfs or ext4`);
    p.check(!devices.has(device), `disk ${device} appears twice`);
    devices.add(device);
    return `${device} ${disk.filesystem} ${disk.force ? 1 : 0}`;
  });
  p.throwIfAny('invalid disks.conf entries');
  return [MANAGED, '# <device> <xfs|ext4> <force 0/1>: mounted at /data/<device name>; force 1 allows wiping existing data']
    .concat(lines)
    .join('\n')
    .concat('\n');
}
