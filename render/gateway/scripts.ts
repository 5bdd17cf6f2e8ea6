/**
 * The gateway's shell scripts (SPEC §6) and the small files that configure them. The scripts are the
 * same text on every gateway and live as assets beside this file, where shellcheck reads them as they
 * run; what differs between clusters is in `/etc/cias/gateway.conf` and `addresses.conf`.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { requireInterfaceName, requireIpv4, requirePrefix } from './net';
import { GATEWAY_DEFAULTS, GATEWAY_PATHS, GatewayFile, VmManagementIp } from './types';

const ASSET_DIR = join(__dirname, 'assets');

/** Scripts installed in `/usr/local/lib/cias/gateway` (mode 0755 except the sourced library). */
export const GATEWAY_LIBRARY_SCRIPTS = [
  'common.sh',
  'create_user.sh',
  'setup_ip_proxmox.sh',
  'setup_ip_nas.sh',
  'setup_ip_vm.sh',
  'dev_clean.sh',
  'apply-addresses.sh',
  'apply-firewall.sh',
  'apply-dns.sh',
  'refresh.sh',
] as const;

/** Zentyal hooks (REFERENCE §2.3) and the library script each one runs. */
export const ZENTYAL_HOOKS = [
  { hook: 'firewall.postservice', script: 'apply-firewall.sh', why: 'after Zentyal has rebuilt its iptables rules' },
  { hook: 'network.postservice', script: 'apply-addresses.sh', why: 'after Zentyal has rewritten the interfaces' },
  { hook: 'dns.postsetconf', script: 'apply-dns.sh', why: 'after Zentyal has written named.conf.local, before bind starts' },
] as const;

export function readGatewayAsset(name: string): string {
  return readFileSync(join(ASSET_DIR, name), 'utf8');
}

export interface GatewayConfParams {
  /** @default 'eth0' */
  readonly wanInterface?: string;
  /** @default 'eth0' */
  readonly lanInterface?: string;
  /** Prefix length of the WAN subnet, e.g. 24. */
  readonly wanPrefix: number;
  /**
   * The WAN default gateway.
   * @default undefined (the default route is left alone)
   */
  readonly wanGateway?: string;
  /** @default '10.0.0.254' */
  readonly lanIp?: string;
  /** @default 8 */
  readonly lanPrefix?: number;
  /** @default '10.254.0.254' */
  readonly sshAllowedSource?: string;
  /**
   * The group whose members may log in to Zentyal's web UI.
   * @default 'sudo'
   */
  readonly adminGroup?: string;
}

/** `/etc/cias/gateway.conf`: shell variables every gateway script sources. */
export function renderGatewayConf(params: GatewayConfParams): string {
  const wanIf = requireInterfaceName(params.wanInterface ?? GATEWAY_DEFAULTS.wanInterface, 'wanInterface');
  const lanIf = requireInterfaceName(params.lanInterface ?? GATEWAY_DEFAULTS.lanInterface, 'lanInterface');
  const wanPrefix = requirePrefix(params.wanPrefix, 'wanPrefix');
  const wanGateway = params.wanGateway === undefined ? '' : requireIpv4(params.wanGateway, 'wanGateway');
  const lanIp = requireIpv4(params.lanIp ?? GATEWAY_DEFAULTS.lanIp, 'lanIp');
  const lanPrefix = requirePrefix(params.lanPrefix ?? GATEWAY_DEFAULTS.lanPrefix, 'lanPrefix');
  const ssh = requireIpv4(params.sshAllowedSource ?? GATEWAY_DEFAULTS.sshAllowedSource, 'sshAllowedSource');
  const group = params.adminGroup ?? GATEWAY_DEFAULTS.adminGroup;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(group)) throw new Error(`adminGroup: not a group name: ${group}`);
  return [
    '# cias gateway settings (sourced by /usr/local/lib/cias/gateway/*.sh). Generated from cluster.yaml.',
    `CIAS_GW_WAN_IF=${wanIf}`,
    `CIAS_GW_LAN_IF=${lanIf}`,
    `CIAS_GW_WAN_PREFIX=${wanPrefix}`,
    `CIAS_GW_WAN_GATEWAY=${wanGateway}`,
    `CIAS_GW_LAN_ADDRESS=${lanIp}/${lanPrefix}`,
    `CIAS_GW_SSH_SOURCE=${ssh}`,
    `CIAS_GW_ADMIN_GROUP=${group}`,
  ].join('\n') + '\n';
}

export interface AddressesConfParams {
  readonly proxmoxManagementIp: string;
  /** @default undefined (no NAS-management IP) */
  readonly nasManagementIp?: string;
  readonly vmManagementIps: readonly VmManagementIp[];
}

/** `/etc/cias/gateway/addresses.conf`, the file `setup_ip_*.sh` edit and `apply-addresses.sh` reads. */
export function renderAddressesConf(params: AddressesConfParams): string {
  const lines = [
    '# role address (cias gateway WAN addresses; see setup_ip_*.sh)',
    `proxmox ${requireIpv4(params.proxmoxManagementIp, 'proxmoxManagementIp')}`,
  ];
  const used = new Set([params.proxmoxManagementIp]);
  const take = (ip: string, what: string) => {
    requireIpv4(ip, what);
    if (used.has(ip)) throw new Error(`${what}: ${ip} is already used by another role`);
    used.add(ip);
    return ip;
  };
  if (params.nasManagementIp !== undefined) lines.push(`nas ${take(params.nasManagementIp, 'nasManagementIp')}`);
  const indices = new Set<number>();
  for (const vmIp of [...params.vmManagementIps].sort((a, b) => a.index - b.index)) {
    if (!Number.isInteger(vmIp.index) || vmIp.index < 0 || vmIp.index > 250) throw new Error(`VM-management index ${vmIp.index}`);
    if (indices.has(vmIp.index)) throw new Error(`VM-management index ${vmIp.index} listed twice`);
    indices.add(vmIp.index);
    lines.push(`vm-${vmIp.index} ${take(vmIp.ip, `VM-management IP ${vmIp.index}`)}`);
  }
  return lines.join('\n') + '\n';
}

/** A Zentyal hook: a fixed wrapper, so the logic stays in the library script shellcheck sees. */
export function renderZentyalHook(hook: string, script: string, why: string): string {
  return [
    '#!/usr/bin/env bash',
    `# cias: Zentyal runs /etc/zentyal/hooks/${hook} ${why} (REFERENCE §2.3).`,
    '# The module-enabled argument is ignored: the cias rules are needed either way.',
    'set -euo pipefail',
    `exec ${GATEWAY_PATHS.libDir}/${script}`,
    '',
  ].join('\n');
}

/** Every script file of the bundle, with its install path and mode. */
export function gatewayScriptFiles(): GatewayFile[] {
  const files: GatewayFile[] = GATEWAY_LIBRARY_SCRIPTS.map((name) => ({
    path: `${GATEWAY_PATHS.libDir}/${name}`,
    mode: name === 'common.sh' ? '0644' : '0755',
    content: readGatewayAsset(name),
  }));
  files.push({
    path: GATEWAY_PATHS.refresh,
    mode: '0755',
    content: [
      '#!/usr/bin/env bash',
      '# cias: applies the installed gateway bundle; see refresh.sh.',
      'set -euo pipefail',
      `exec ${GATEWAY_PATHS.libDir}/refresh.sh "$@"`,
      '',
    ].join('\n'),
  });
  for (const h of ZENTYAL_HOOKS) {
    files.push({ path: `${GATEWAY_PATHS.hooksDir}/${h.hook}`, mode: '0755', content: renderZentyalHook(h.hook, h.script, h.why) });
  }
  return files;
}
