/**
 * isc-dhcp-server configuration for the Zentyal gateway (REFERENCE §2.5): the LAN subnet with the
 * temporary pool, and one fixed-address host per tenant VM. Zentyal writes /etc/dhcp/dhcpd.conf from
 * the top-level stub `dhcp/dhcpd.conf.mas`, so cias installs its own copy of that stub
 * (`renderDhcpdZentyalStub`); the host blocks live in a plain include file so 124,245 of them never
 * pass through Mason.
 */
import {
  checkTenantAddress,
  inSubnet,
  ipv4ToInt,
  isDnsLabel,
  networkOf,
  normalizeMac,
  prefixToNetmask,
  requireIpv4,
  requirePrefix,
} from './net';
import { GATEWAY_DEFAULTS, GATEWAY_PATHS, GatewayVm } from './types';
import { linesText } from '../large-text';

export interface DhcpdConfigParams {
  /**
   * The gateway's LAN address, handed out as router and name server.
   * @default '10.0.0.254'
   */
  readonly lanIp?: string;
  /** @default '10.0.0.0' */
  readonly lanNetwork?: string;
  /** @default 8 */
  readonly lanPrefix?: number;
  /** @default '10.251.0.1' */
  readonly poolFirst?: string;
  /** @default '10.251.254.254' */
  readonly poolLast?: string;
  /**
   * When the LAN shares its interface with the WAN (one virtio NIC, SPEC §6), dhcpd sees both
   * subnets on that interface. The WAN subnet is then declared in the same shared-network, empty and
   * `not authoritative`, so dhcpd never offers or NAKs WAN addresses.
   * @default undefined (the LAN interface carries only the LAN subnet)
   */
  readonly sharedWanSubnet?: { readonly network: string; readonly prefix: number };
  /**
   * Name servers handed to clients.
   * @default [lanIp] (the gateway's BIND)
   */
  readonly dnsServers?: readonly string[];
  /**
   * `option domain-name` for clients.
   * @default undefined (not sent)
   */
  readonly domainName?: string;
  /** @default 1800 (Zentyal's default) */
  readonly defaultLeaseSeconds?: number;
  /** @default 7200 (Zentyal's default) */
  readonly maxLeaseSeconds?: number;
  /**
   * The file with the host blocks (`renderDhcpdHosts`). The default sits in Zentyal's DHCP include
   * directory, which Zentyal's AppArmor profile for dhcpd already lets the daemon read.
   * @default '/etc/zentyal/dhcp/cias-hosts.conf'
   */
  readonly hostsFile?: string;
}

export interface DhcpdHostsParams {
  readonly vms: readonly GatewayVm[];
}

const MASON_PID_ARG = '<% $pidFile %>';

/** The complete dhcpd.conf (what Zentyal writes from the stub, with the pid file left to dhcpd). */
export function renderDhcpdConfig(params: DhcpdConfigParams): string {
  return dhcpdConfigLines(params, undefined).join('\n') + '\n';
}

/**
 * The custom top-level stub `/etc/zentyal/stubs/dhcp/dhcpd.conf.mas`. Zentyal passes its own
 * arguments (interfaces, ranges, DNS) to it; the stub only uses `$pidFile`, so the GUI's DHCP tables
 * no longer change the file and cluster.yaml stays the single source of truth.
 */
export function renderDhcpdZentyalStub(params: DhcpdConfigParams): string {
  const body = dhcpdConfigLines(params, MASON_PID_ARG);
  for (const line of body) {
    if (line === `pid-file-name "${MASON_PID_ARG}";`) continue;
    if (/^\s*%|<%|<&|\\$/.test(line)) throw new Error(`dhcpd stub line would be read as Mason code: ${line}`);
  }
  return [
    '<%doc>',
    '  cias: replaces Zentyal\'s dhcp/dhcpd.conf.mas. Installed by the cias gateway bundle;',
    '  regenerate it from cluster.yaml instead of editing it here.',
    '</%doc>',
    '<%args>',
    "    $pidFile => '/var/run/dhcp-server/dhcpd.pid'",
    '</%args>',
    ...body,
  ].join('\n') + '\n';
}

function dhcpdConfigLines(params: DhcpdConfigParams, pidFile: string | undefined): string[] {
  const lanIp = requireIpv4(params.lanIp ?? GATEWAY_DEFAULTS.lanIp, 'lanIp');
  const lanPrefix = requirePrefix(params.lanPrefix ?? GATEWAY_DEFAULTS.lanPrefix, 'lanPrefix');
  const lanNetwork = requireIpv4(params.lanNetwork ?? GATEWAY_DEFAULTS.lanNetwork, 'lanNetwork');
  const poolFirst = requireIpv4(params.poolFirst ?? GATEWAY_DEFAULTS.dhcpPoolFirst, 'poolFirst');
  const poolLast = requireIpv4(params.poolLast ?? GATEWAY_DEFAULTS.dhcpPoolLast, 'poolLast');
  if (networkOf(lanNetwork, lanPrefix) !== lanNetwork) throw new Error(`lanNetwork ${lanNetwork}/${lanPrefix} has host bits`);
  for (const [what, ip] of [['lanIp', lanIp], ['poolFirst', poolFirst], ['poolLast', poolLast]] as const) {
    if (!inSubnet(ip, lanNetwork, lanPrefix)) throw new Error(`${what} ${ip} is outside ${lanNetwork}/${lanPrefix}`);
  }
  if (ipv4ToInt(poolFirst) > ipv4ToInt(poolLast)) throw new Error(`pool ${poolFirst}–${poolLast} is empty`);
  const dnsServers = (params.dnsServers ?? [lanIp]).map((ip, i) => requireIpv4(ip, `dnsServers[${i}]`));
  const defaultLease = params.defaultLeaseSeconds ?? 1800;
  const maxLease = params.maxLeaseSeconds ?? 7200;
  if (!(Number.isInteger(defaultLease) && Number.isInteger(maxLease) && defaultLease > 0 && maxLease >= defaultLease)) {
    throw new Error(`lease times ${defaultLease}/${maxLease} must be positive integers, max ≥ default`);
  }
  const hostsFile = params.hostsFile ?? GATEWAY_PATHS.dhcpHosts;
  if (!/^\/[A-Za-z0-9_./-]+$/.test(hostsFile)) throw new Error(`hostsFile: not a plain absolute path: ${hostsFile}`);

  const lines = [
    '# cias: DHCP for the DLLL-CIAS LAN (SPEC §6). Generated from cluster.yaml; do not edit.',
    'ddns-update-style none;',
    `default-lease-time ${defaultLease};`,
    `max-lease-time ${maxLease};`,
  ];
  if (pidFile !== undefined) lines.push(`pid-file-name "${pidFile}";`);
  const lanSubnet = [
    `  subnet ${lanNetwork} netmask ${prefixToNetmask(lanPrefix)} {`,
    '    authoritative;',
    `    option routers ${lanIp};`,
    `    option subnet-mask ${prefixToNetmask(lanPrefix)};`,
    `    option domain-name-servers ${dnsServers.join(', ')};`,
  ];
  if (params.domainName !== undefined) {
    if (!params.domainName.split('.').every(isDnsLabel)) throw new Error(`domainName: not a domain: ${params.domainName}`);
    lanSubnet.push(`    option domain-name "${params.domainName}";`);
  }
  lanSubnet.push('    # Temporary leases for machines without a reservation (SPEC §2).', '    pool {', `      range ${poolFirst} ${poolLast};`, '    }', '  }');

  lines.push('', 'shared-network cias-lan {', ...lanSubnet);
  const wan = params.sharedWanSubnet;
  if (wan !== undefined) {
    const wanNetwork = networkOf(requireIpv4(wan.network, 'sharedWanSubnet.network'), requirePrefix(wan.prefix, 'sharedWanSubnet.prefix'));
    if (inSubnet(wanNetwork, lanNetwork, Math.min(lanPrefix, wan.prefix))) {
      throw new Error(`sharedWanSubnet ${wanNetwork}/${wan.prefix} overlaps the LAN ${lanNetwork}/${lanPrefix}`);
    }
    lines.push(
      '  # The WAN addresses share the NIC: declared so dhcpd accepts the interface, never served.',
      `  subnet ${wanNetwork} netmask ${prefixToNetmask(wan.prefix)} {`,
      '    not authoritative;',
      '  }',
    );
  }
  lines.push('}', '', '# One reservation per tenant VM (VMID -> MAC -> 10.E.a.b).', `include "${hostsFile}";`);
  return lines;
}

/** Lines joined per batch as they are made: 124,245 line strings alive at once cost more to collect than to make. */
const LINE_BATCH = 1024;

/**
 * One `host` block per VM. Linear: a Set for the uniqueness checks, lines joined batch by batch.
 */
export function renderDhcpdHosts(params: DhcpdHostsParams): string {
  const batches: string[] = ['# cias: fixed addresses of the tenant VMs. Generated from cluster.yaml; do not edit.'];
  let lines: string[] = [];
  const macs = new Set<string>();
  const vmids = new Set<number>();
  for (const vm of params.vms) {
    const mac = normalizeMac(vm.mac, `VM ${vm.vmid} mac`);
    // The address follows from the VMID, so distinct VMIDs are distinct addresses.
    checkTenantAddress(vm);
    if (vmids.has(vm.vmid)) throw new Error(`VM ${vm.vmid} listed twice`);
    if (macs.has(mac)) throw new Error(`VM ${vm.vmid}: MAC ${mac} already reserved for another VM`);
    vmids.add(vm.vmid);
    macs.add(mac);
    const hostName = isDnsLabel(vm.name) ? `option host-name "${vm.name}"; ` : '';
    lines.push(`host vm${vm.vmid} { hardware ethernet ${mac}; fixed-address ${vm.internalIp}; ${hostName}}`);
    if (lines.length === LINE_BATCH) {
      batches.push(lines.join('\n'));
      lines = [];
    }
  }
  if (lines.length > 0) batches.push(lines.join('\n'));
  return linesText(batches);
}
