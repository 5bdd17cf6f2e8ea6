/**
 * Everything the construct installs on the gateway VM, as `{ path, mode, content }`. The layout and
 * the reason for each path are in docs/ARCHITECTURE.md, "Gateway (Zentyal) rules".
 */
import { renderDhcpdHosts, renderDhcpdZentyalStub } from './dhcp';
import { renderDnsZone, renderNamedConfInclude } from './dns';
import { renderFirewall } from './firewall';
import { networkOf } from './net';
import { NginxTls, renderNginxSite } from './nginx';
import { gatewayScriptFiles, renderAddressesConf, renderGatewayConf } from './scripts';
import {
  DnsName,
  GATEWAY_DEFAULTS,
  GATEWAY_PATHS,
  GatewayFile,
  GatewayNas,
  GatewayVm,
  ReverseProxyEntry,
  UrlRedirect,
  VmManagementIp,
} from './types';

export interface GatewayBundleParams {
  /** @default 'eth0' (one virtio NIC carries WAN and LAN, SPEC §6) */
  readonly wanInterface?: string;
  /** @default 'eth0' */
  readonly lanInterface?: string;
  /** Prefix length of the WAN subnet (netmask 255.255.255.0 → 24). */
  readonly wanPrefix: number;
  /** The WAN default gateway, e.g. 192.168.56.1. */
  readonly wanGateway: string;
  /** @default '10.0.0.254' */
  readonly lanIp?: string;
  readonly proxmoxManagementIp: string;
  /** @default undefined (no NAS) */
  readonly nasManagementIp?: string;
  readonly vmManagementIps: readonly VmManagementIp[];
  /** @default '10.254.0.254' */
  readonly proxmoxVip?: string;
  /** @default [] */
  readonly proxmoxNodeIps?: readonly string[];
  /** @default [] */
  readonly nas?: readonly GatewayNas[];
  readonly vms: readonly GatewayVm[];
  /** @default [] */
  readonly reverseProxies?: readonly ReverseProxyEntry[];
  /** @default [] */
  readonly redirects?: readonly UrlRedirect[];
  /** The zone the gateway serves (the cluster domain) and the names in it besides the VMs' `dnsNames`. */
  readonly dns: { readonly zone: string; readonly names: readonly DnsName[] };
  /** @default '10.254.0.254' */
  readonly sshAllowedSource?: string;
  /** @default 'sudo' */
  readonly adminGroup?: string;
  /** @default undefined (reverse proxy on HTTP only) */
  readonly tls?: NginxTls;
}

/** The files to install, in install order (configuration first, scripts and hooks last). */
export function renderGatewayBundle(params: GatewayBundleParams): readonly GatewayFile[] {
  const wanInterface = params.wanInterface ?? GATEWAY_DEFAULTS.wanInterface;
  const lanInterface = params.lanInterface ?? GATEWAY_DEFAULTS.lanInterface;
  const lanIp = params.lanIp ?? GATEWAY_DEFAULTS.lanIp;
  const proxmoxVip = params.proxmoxVip ?? GATEWAY_DEFAULTS.proxmoxVip;
  const sshAllowedSource = params.sshAllowedSource ?? GATEWAY_DEFAULTS.sshAllowedSource;
  const nas = params.nas ?? [];

  const vmIndexIp = new Map(params.vmManagementIps.map((v) => [v.index, v.ip]));
  for (const vm of params.vms) {
    if (vmIndexIp.get(vm.externalIndex) !== vm.externalIp) {
      throw new Error(`VM ${vm.vmid}: VM-management IP ${vm.externalIndex} is not ${vm.externalIp} in vmManagementIps`);
    }
  }

  const firewall = renderFirewall({
    wanInterface,
    lanIp,
    proxmoxManagementIp: params.proxmoxManagementIp,
    proxmoxVip,
    nasManagementIp: params.nasManagementIp,
    nas,
    vms: params.vms,
    sshAllowedSource,
  });
  const dhcpStub = renderDhcpdZentyalStub({
    lanIp,
    sharedWanSubnet:
      wanInterface === lanInterface
        ? { network: networkOf(params.proxmoxManagementIp, params.wanPrefix), prefix: params.wanPrefix }
        : undefined,
    domainName: params.dns.zone,
    hostsFile: GATEWAY_PATHS.dhcpHosts,
  });
  const zoneFile = `${GATEWAY_PATHS.bindDir}/db.${params.dns.zone.toLowerCase().replace(/\.$/, '')}`;
  const dnsRecords: DnsName[] = [...params.dns.names];
  for (const vm of params.vms) for (const name of vm.dnsNames ?? []) dnsRecords.push({ name, ip: vm.externalIp });

  const files: GatewayFile[] = [
    {
      path: GATEWAY_PATHS.conf,
      mode: '0644',
      content: renderGatewayConf({
        wanInterface,
        lanInterface,
        wanPrefix: params.wanPrefix,
        wanGateway: params.wanGateway,
        lanIp,
        sshAllowedSource,
        adminGroup: params.adminGroup,
      }),
    },
    {
      path: GATEWAY_PATHS.addresses,
      mode: '0644',
      content: renderAddressesConf({
        proxmoxManagementIp: params.proxmoxManagementIp,
        nasManagementIp: params.nasManagementIp,
        vmManagementIps: params.vmManagementIps,
      }),
    },
    { path: GATEWAY_PATHS.firewallRules, mode: '0644', content: firewall.hookRules },
    { path: GATEWAY_PATHS.dhcpStub, mode: '0644', content: dhcpStub },
    { path: GATEWAY_PATHS.dhcpHosts, mode: '0644', content: renderDhcpdHosts({ vms: params.vms }) },
    {
      path: zoneFile,
      mode: '0644',
      content: renderDnsZone({ zone: params.dns.zone, records: dnsRecords, nameserverIp: params.proxmoxManagementIp }),
    },
    { path: GATEWAY_PATHS.bindInclude, mode: '0644', content: renderNamedConfInclude({ zone: params.dns.zone, zoneFile }) },
    {
      path: GATEWAY_PATHS.nginxSite,
      mode: '0644',
      content: renderNginxSite({
        proxmoxManagementIp: params.proxmoxManagementIp,
        proxmoxVip,
        proxmoxNodeIps: params.proxmoxNodeIps,
        nasManagementIp: params.nasManagementIp,
        nas,
        reverseProxies: params.reverseProxies,
        redirects: params.redirects,
        tls: params.tls,
      }),
    },
    ...gatewayScriptFiles(),
  ];
  return files;
}
