/**
 * Parameter types shared by the gateway renderers. The model layer computes every value; the renderers
 * only check what would otherwise produce a broken or dangerous file (a forward outside its VM's port
 * block, two VMs on one MAC, a proxy name served twice) and turn the rest into text.
 */

export type Protocol = 'tcp' | 'udp';

export interface PortForward {
  readonly externalPort: number;
  readonly internalPort: number;
  readonly protocol: Protocol;
}

/** One tenant VM as the gateway sees it (SPEC §3: VMID E*1000+P → 10.E.a.b, ports P*100..P*100+99). */
export interface GatewayVm {
  readonly vmid: number;
  readonly name: string;
  readonly mac: string;
  /** `10.E.a.b`. */
  readonly internalIp: string;
  /** E, the index of the VM-management IP, 0..250. */
  readonly externalIndex: number;
  /** The VM-management IP with index E. */
  readonly externalIp: string;
  /**
   * Forwards of this VM's port block. With `defaultRuleProtocols` set they are the overrides of the
   * default rule; without it they are the complete list.
   */
  readonly portForwards: readonly PortForward[];
  /**
   * Protocols for which every port of the block that `portForwards` does not name follows the default
   * rule: external suffix 01..99 → the same internal port (P*100+22 → 22). Suffix 00 has no default.
   * Passing the rule instead of 198 expanded forwards per VM keeps 124,245 VMs cheap.
   * @default [] (only `portForwards` are forwarded)
   */
  readonly defaultRuleProtocols?: readonly Protocol[];
  /**
   * Names that resolve to this VM's VM-management IP in the gateway's zone.
   * @default []
   */
  readonly dnsNames?: readonly string[];
}

export interface GatewayNas {
  /** `nas.<rack>.<position>.<o3>-<o4>.<domain>`; also the reverse-proxy server name. */
  readonly hostname: string;
  /** `10.253.a.b`. */
  readonly ip: string;
  /** Forwards from the NAS-management IP to this NAS; external ports are unique across all NAS. */
  readonly managementForwards: readonly PortForward[];
  /**
   * Port of the NAS web UI the reverse proxy reaches.
   * @default 80
   */
  readonly webPort?: number;
  /**
   * Scheme of the NAS web UI.
   * @default 'http'
   */
  readonly webScheme?: 'http' | 'https';
}

/** A name-based reverse proxy served on the Proxmox-management IP. */
export interface ReverseProxyEntry {
  readonly serverName: string;
  /** `http(s)://<ip or host>[:port][/path]`. */
  readonly upstream: string;
}

/** A host whose every request is redirected to a URL, served on the Proxmox-management IP. */
export interface UrlRedirect {
  readonly fromHost: string;
  readonly toUrl: string;
}

export interface DnsName {
  /** Fully qualified name inside the gateway's zone (a trailing dot is accepted). */
  readonly name: string;
  readonly ip: string;
}

export interface VmManagementIp {
  readonly index: number;
  readonly ip: string;
}

/** Files the construct installs on the gateway. */
export interface GatewayFile {
  readonly path: string;
  /** Octal permission string, e.g. `0755`. */
  readonly mode: string;
  readonly content: string;
}

/** Defaults of SPEC §2, §6. */
export const GATEWAY_DEFAULTS = {
  /** One virtio NIC (SPEC §6) carries the WAN and the LAN addresses. */
  wanInterface: 'eth0',
  lanInterface: 'eth0',
  lanIp: '10.0.0.254',
  lanNetwork: '10.0.0.0',
  lanPrefix: 8,
  proxmoxVip: '10.254.0.254',
  proxmoxUiPort: 8006,
  sshAllowedSource: '10.254.0.254',
  dhcpPoolFirst: '10.251.0.1',
  dhcpPoolLast: '10.251.254.254',
  adminGroup: 'sudo',
} as const;

/** Where the gateway's files go (see docs/ARCHITECTURE.md, "Gateway (Zentyal) rules"). */
export const GATEWAY_PATHS = {
  conf: '/etc/cias/gateway.conf',
  etcDir: '/etc/cias/gateway',
  addresses: '/etc/cias/gateway/addresses.conf',
  firewallRules: '/etc/cias/gateway/iptables-cias.rules',
  libDir: '/usr/local/lib/cias/gateway',
  refresh: '/usr/local/sbin/cias-gateway-refresh',
  dhcpStub: '/etc/zentyal/stubs/dhcp/dhcpd.conf.mas',
  dhcpHosts: '/etc/zentyal/dhcp/cias-hosts.conf',
  bindDir: '/etc/bind/cias',
  bindInclude: '/etc/bind/cias/named.conf.cias',
  nginxSite: '/etc/nginx/conf.d/cias-gateway.conf',
  hooksDir: '/etc/zentyal/hooks',
} as const;
