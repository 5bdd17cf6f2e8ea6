/**
 * keepalived.conf for one Proxmox node (SPEC §4, §5, §7 scenarios 3/4, §9 errata).
 *
 * Who can be master: a node below the hardware minimum (`canBeMaster: false`) gets a keepalived.conf
 * with NO vrrp_instance. keepalived runs there idle ("no configuration to run"), never sends or
 * answers adverts, and has no virtual_ipaddress to add, so it can never hold 10.254.0.254 or the
 * master external IP — whatever the other nodes do, crash or misconfigure. The seed's "priority 0"
 * cannot do this: VRRP priority 0 is not configurable (keepalived falls back to 100), and any
 * priority that "always loses" still wins when it is the last node alive. The other nodes leave
 * weak nodes out of their unicast peers, and no force-master variant exists for a weak node.
 *
 * Priority mapping: cluster.yaml priority p ∈ 0..100 becomes VRRP priority 100 + p ∈ 100..200.
 * The order is kept (higher wins; equal priorities are broken by the higher primary IP, RFC 3768),
 * 255 (address owner) and 0 (resign) are never produced, and 254 stays free above every normal
 * node for the manual switch, which must beat all of them.
 *
 * Every instance starts as BACKUP with `nopreempt`: a node that returns with a higher priority
 * does not take the VIPs back, because each change of master is a full failover (mfsmaster
 * restore, gateway VM move). The force-master variant drops `nopreempt` and uses priority 254, so it
 * preempts whoever is master. To go back to the normal file afterwards, RELOAD keepalived
 * (SIGHUP / `systemctl reload keepalived`): the instance keeps MASTER with its normal priority and
 * the others, being nopreempt, leave it there. A restart would send a priority-0 advert on stop and
 * hand the VIPs straight to another node.
 */
import { isIpv4 } from '../model/ipv4';
import { isHostName } from './hosts';

export const DEFAULT_VIP = '10.254.0.254';
export const DEFAULT_VIP_PREFIX = 8;
export const DEFAULT_VIRTUAL_ROUTER_ID = 51;
export const DEFAULT_ADVERT_INTERVAL_SECONDS = 1;
export const DEFAULT_NOTIFY_MASTER_SCRIPT = '/usr/local/sbin/keepalived_to_master.sh';
export const DEFAULT_NOTIFY_BACKUP_SCRIPT = '/usr/local/sbin/keepalived_to_backup.sh';
/** Name of the one VRRP instance; scripts may look for it in keepalived's logs or notify FIFO. */
export const VRRP_INSTANCE_NAME = 'VI_CIAS';

export const MIN_CLUSTER_PRIORITY = 0;
export const MAX_CLUSTER_PRIORITY = 100;
export const VRRP_PRIORITY_OFFSET = 100;
/** Highest priority a BACKUP-state instance may use: 255 would make the node the address owner. */
export const FORCE_MASTER_VRRP_PRIORITY = 254;
/** keepalived uses only the first 8 characters of a PASS password (REFERENCE 3.2). */
export const MAX_AUTH_PASSWORD_LENGTH = 8;

/** Another cluster node, as this node's unicast peer list sees it. */
export interface KeepalivedPeer {
  /** Proxmox node name, only used in error messages. */
  readonly name: string;
  /** Internal IP (unicast peer address). */
  readonly ip: string;
  /** False for nodes below the hardware minimum: they are never peers. */
  readonly canBeMaster: boolean;
}

export interface KeepalivedParams {
  /** Proxmox node name; becomes router_id. */
  readonly nodeName: string;
  /** The node's own internal IP (unicast source). */
  readonly nodeIp: string;
  /** cluster.yaml priority, 0..100; mapped to VRRP 100 + p. */
  readonly priority: number;
  /** False when the node is below the hardware minimum: it never holds the VIPs. */
  readonly canBeMaster: boolean;
  /** Interface for the internal VIP (usually vmbr0). */
  readonly lanInterface: string;
  /** Interface for the master external IP (may equal lanInterface). */
  readonly wanInterface: string;
  /** Master external IP that floats with the master role. */
  readonly masterExternalIp: string;
  /** Prefix length of the external network (e.g. 24). */
  readonly wanPrefix: number;
  /** Internal master VIP (`cias-pve-master`). @default '10.254.0.254' */
  readonly vip?: string;
  /** Prefix length of the internal VIP. @default 8 */
  readonly vipPrefix?: number;
  /** VRRP router id, the same on every node, unique on the segment. @default 51 */
  readonly virtualRouterId?: number;
  /** Advertisement interval in whole seconds (VRRPv2). @default 1 */
  readonly advertIntervalSeconds?: number;
  /** Script run on becoming master (scenario 3). @default '/usr/local/sbin/keepalived_to_master.sh' */
  readonly notifyMasterScript?: string;
  /**
   * Script run on entering BACKUP or FAULT (a demoted master stops its mfsmaster).
   * @default '/usr/local/sbin/keepalived_to_backup.sh'
   */
  readonly notifyBackupScript?: string;
  /** VRRP PASS authentication, 1..8 characters; the same on every node. @default undefined (no authentication) */
  readonly authPassword?: string;
  /**
   * Send adverts unicast to these nodes instead of multicast. Pass every cluster node: this node and
   * nodes that cannot be master are left out. With no master-capable peer left, the file falls back
   * to multicast (keepalived rejects an empty unicast_peer block).
   * @default undefined (multicast)
   */
  readonly unicastPeers?: readonly KeepalivedPeer[];
  /** Keep a lower-priority master in place when a higher-priority node comes back. @default true */
  readonly nopreempt?: boolean;
  /**
   * Hosts the master must reach from the VIP rather than from its own address: the gateway accepts SSH
   * only from 10.254.0.254. Rendered as `virtual_routes` (`src <vip> to <ip>/32 dev <lan>`), which
   * keepalived adds and removes together with the VIPs. @default [] (none)
   */
  readonly routeFromVip?: readonly string[];
}

/** VRRP priority for a cluster.yaml priority (0..100 → 100..200). */
export function vrrpPriority(clusterPriority: number): number {
  if (!Number.isInteger(clusterPriority) || clusterPriority < MIN_CLUSTER_PRIORITY || clusterPriority > MAX_CLUSTER_PRIORITY) {
    throw new Error(`keepalived priority ${clusterPriority} is not an integer in ${MIN_CLUSTER_PRIORITY}..${MAX_CLUSTER_PRIORITY}`);
  }
  return VRRP_PRIORITY_OFFSET + clusterPriority;
}

/** The node's normal /etc/keepalived/keepalived.conf. */
export function renderKeepalivedConf(params: KeepalivedParams): string {
  const resolved = resolveParams(params);
  if (!params.canBeMaster) return renderWeakNodeConf(resolved);
  return renderConf(resolved, {
    priority: vrrpPriority(params.priority),
    nopreempt: resolved.nopreempt,
    header: `Normal configuration: BACKUP, cluster priority ${params.priority} -> VRRP priority ${vrrpPriority(params.priority)}.`,
  });
}

/**
 * /etc/keepalived/keepalived-force-master.conf for the manual switch (scenario 4): the same
 * instance, VRID, authentication, peers and VIPs as the normal file, at priority 254 and
 * preempting, so it beats every normal node. Throws for a node that can never be master.
 */
export function renderKeepalivedForceMasterConf(params: KeepalivedParams): string {
  const resolved = resolveParams(params);
  if (!params.canBeMaster) {
    throw new Error(
      `keepalived: node ${params.nodeName} is below the hardware minimum (canBeMaster: false) and can never be forced to master`,
    );
  }
  return renderConf(resolved, {
    priority: FORCE_MASTER_VRRP_PRIORITY,
    nopreempt: false,
    header:
      `Force-master configuration (manual switch): priority ${FORCE_MASTER_VRRP_PRIORITY} and preemption win the election. ` +
      'Go back to the normal file with a reload, not a restart.',
  });
}

interface ResolvedParams {
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly lanInterface: string;
  readonly wanInterface: string;
  readonly masterExternalIp: string;
  readonly wanPrefix: number;
  readonly vip: string;
  readonly vipPrefix: number;
  readonly virtualRouterId: number;
  readonly advertIntervalSeconds: number;
  readonly notifyMasterScript: string;
  readonly notifyBackupScript: string;
  readonly authPassword: string | undefined;
  readonly unicast: boolean;
  /** Master-capable peers other than this node, in the order given, without duplicates. */
  readonly unicastPeerIps: readonly string[];
  readonly nopreempt: boolean;
  readonly routeFromVip: readonly string[];
}

interface Variant {
  readonly priority: number;
  readonly nopreempt: boolean;
  readonly header: string;
}

const MANAGED_BANNER = '# Managed by cias (render/keepalived.ts); local edits are overwritten on the next deploy.';

function renderGlobalDefs(p: ResolvedParams): string[] {
  // Debian has no keepalived_script user: without `script_user root` keepalived drops the notify script.
  return ['global_defs {', `    router_id ${p.nodeName}`, '    enable_script_security', '    script_user root', '}'];
}

function renderWeakNodeConf(p: ResolvedParams): string {
  return [
    MANAGED_BANNER,
    `# Node ${p.nodeName} is below the hardware minimum (can_be_master: false).`,
    '# It has no vrrp_instance on purpose: keepalived runs idle here, never takes part in the election',
    `# and can never hold ${p.vip} or ${p.masterExternalIp}.`,
    ...renderGlobalDefs(p),
    '',
  ].join('\n');
}

function renderConf(p: ResolvedParams, variant: Variant): string {
  const lines = [MANAGED_BANNER, `# ${variant.header}`, ...renderGlobalDefs(p), ''];
  lines.push(`vrrp_instance ${VRRP_INSTANCE_NAME} {`);
  lines.push('    state BACKUP');
  lines.push(`    interface ${p.lanInterface}`);
  lines.push(`    virtual_router_id ${p.virtualRouterId}`);
  lines.push(`    priority ${variant.priority}`);
  lines.push(`    advert_int ${p.advertIntervalSeconds}`);
  if (variant.nopreempt) lines.push('    nopreempt');
  if (p.unicast && p.unicastPeerIps.length > 0) {
    lines.push(`    unicast_src_ip ${p.nodeIp}`);
    lines.push('    unicast_peer {');
    for (const ip of p.unicastPeerIps) lines.push(`        ${ip}`);
    lines.push('    }');
  } else if (p.unicast) {
    lines.push('    # unicast requested, but no other node can be master yet: multicast until one joins');
  }
  if (p.authPassword !== undefined) {
    lines.push('    authentication {', '        auth_type PASS', `        auth_pass ${p.authPassword}`, '    }');
  }
  // Both addresses in one instance so they always move together.
  lines.push('    virtual_ipaddress {');
  lines.push(`        ${p.vip}/${p.vipPrefix} dev ${p.lanInterface}`);
  lines.push(`        ${p.masterExternalIp}/${p.wanPrefix} dev ${p.wanInterface}`);
  lines.push('    }');
  if (p.routeFromVip.length > 0) {
    lines.push('    virtual_routes {');
    for (const ip of p.routeFromVip) lines.push(`        src ${p.vip} to ${ip}/32 dev ${p.lanInterface}`);
    lines.push('    }');
  }
  lines.push(`    notify_master ${p.notifyMasterScript}`);
  lines.push(`    notify_backup ${p.notifyBackupScript}`);
  lines.push(`    notify_fault ${p.notifyBackupScript}`);
  lines.push('}', '');
  return lines.join('\n');
}

/** Linux interface names: at most 15 bytes; we also keep to characters that need no quoting. */
const INTERFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
/** Characters keepalived reads as a plain word: no blanks, quotes, braces or comment starters (# !). */
const AUTH_PASSWORD = /^[A-Za-z0-9_.,:;@%^*+=~?/-]+$/;
const SCRIPT_PATH = /^(\/[A-Za-z0-9_.+-]+)+$/;

export function isInterfaceName(name: string): boolean {
  return INTERFACE_NAME.test(name) && name !== 'lo';
}

function resolveParams(params: KeepalivedParams): ResolvedParams {
  const problems: string[] = [];
  const vip = params.vip ?? DEFAULT_VIP;
  const vipPrefix = params.vipPrefix ?? DEFAULT_VIP_PREFIX;
  const virtualRouterId = params.virtualRouterId ?? DEFAULT_VIRTUAL_ROUTER_ID;
  const advertIntervalSeconds = params.advertIntervalSeconds ?? DEFAULT_ADVERT_INTERVAL_SECONDS;
  const notifyMasterScript = params.notifyMasterScript ?? DEFAULT_NOTIFY_MASTER_SCRIPT;
  const notifyBackupScript = params.notifyBackupScript ?? DEFAULT_NOTIFY_BACKUP_SCRIPT;

  if (!isHostName(params.nodeName)) problems.push(`nodeName ${JSON.stringify(params.nodeName)} is not a host name`);
  for (const [field, value] of [
    ['nodeIp', params.nodeIp],
    ['masterExternalIp', params.masterExternalIp],
    ['vip', vip],
  ] as const) {
    if (!isIpv4(value)) problems.push(`${field} ${JSON.stringify(value)} is not an IPv4 address`);
  }
  if (params.nodeIp === vip) problems.push(`nodeIp ${params.nodeIp} equals the VIP; a node's own address must not float`);
  if (params.nodeIp === params.masterExternalIp) problems.push(`nodeIp ${params.nodeIp} equals the master external IP`);
  if (params.masterExternalIp === vip) problems.push(`masterExternalIp ${vip} equals the internal VIP`);
  if (!Number.isInteger(params.priority) || params.priority < MIN_CLUSTER_PRIORITY || params.priority > MAX_CLUSTER_PRIORITY) {
    problems.push(`priority ${params.priority} is not an integer in ${MIN_CLUSTER_PRIORITY}..${MAX_CLUSTER_PRIORITY}`);
  }
  for (const [field, value] of [
    ['lanInterface', params.lanInterface],
    ['wanInterface', params.wanInterface],
  ] as const) {
    if (!isInterfaceName(value)) {
      problems.push(`${field} ${JSON.stringify(value)} is not a usable interface name (1..15 of A-Z a-z 0-9 _ . -, not lo)`);
    }
  }
  for (const [field, value] of [
    ['wanPrefix', params.wanPrefix],
    ['vipPrefix', vipPrefix],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 32) problems.push(`${field} ${value} is not an integer in 1..32`);
  }
  if (!Number.isInteger(virtualRouterId) || virtualRouterId < 1 || virtualRouterId > 255) {
    problems.push(`virtualRouterId ${virtualRouterId} is not an integer in 1..255`);
  }
  if (!Number.isInteger(advertIntervalSeconds) || advertIntervalSeconds < 1 || advertIntervalSeconds > 255) {
    problems.push(`advertIntervalSeconds ${advertIntervalSeconds} is not a whole number of seconds in 1..255 (VRRPv2)`);
  }
  for (const [field, script] of [
    ['notifyMasterScript', notifyMasterScript],
    ['notifyBackupScript', notifyBackupScript],
  ] as const) {
    if (!SCRIPT_PATH.test(script) || script.split('/').some((part) => part === '.' || part === '..')) {
      problems.push(`${field} ${JSON.stringify(script)} is not an absolute path without blanks, quotes or . / .. parts`);
    }
  }
  if (params.authPassword !== undefined) {
    if (params.authPassword.length < 1 || params.authPassword.length > MAX_AUTH_PASSWORD_LENGTH) {
      problems.push(`authPassword has ${params.authPassword.length} characters; VRRP PASS uses 1..${MAX_AUTH_PASSWORD_LENGTH}`);
    }
    if (!AUTH_PASSWORD.test(params.authPassword)) {
      problems.push('authPassword may only contain letters, digits and _ . , : ; @ % ^ * + = ~ ? / -');
    }
  }

  const unicastPeerIps: string[] = [];
  for (const peer of params.unicastPeers ?? []) {
    if (!isIpv4(peer.ip)) {
      problems.push(`unicast peer ${peer.name}: ip ${JSON.stringify(peer.ip)} is not an IPv4 address`);
      continue;
    }
    if (peer.ip === vip || peer.ip === params.masterExternalIp) {
      problems.push(`unicast peer ${peer.name}: ip ${peer.ip} is a floating address, not a node address`);
      continue;
    }
    if (peer.ip === params.nodeIp || !peer.canBeMaster || unicastPeerIps.includes(peer.ip)) continue;
    unicastPeerIps.push(peer.ip);
  }
  for (const ip of params.routeFromVip ?? []) {
    if (!isIpv4(ip)) problems.push(`routeFromVip entry ${JSON.stringify(ip)} is not an IPv4 address`);
  }

  if (problems.length > 0) {
    throw new Error(`invalid keepalived parameters for node ${params.nodeName}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return {
    nodeName: params.nodeName,
    nodeIp: params.nodeIp,
    lanInterface: params.lanInterface,
    wanInterface: params.wanInterface,
    masterExternalIp: params.masterExternalIp,
    wanPrefix: params.wanPrefix,
    vip,
    vipPrefix,
    virtualRouterId,
    advertIntervalSeconds,
    notifyMasterScript,
    notifyBackupScript,
    authPassword: params.authPassword,
    unicast: params.unicastPeers !== undefined,
    unicastPeerIps,
    nopreempt: params.nopreempt ?? true,
    routeFromVip: params.routeFromVip ?? [],
  };
}
