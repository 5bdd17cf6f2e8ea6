/** The Zentyal gateway's renderers (SPEC §6). See docs/ARCHITECTURE.md, "Gateway (Zentyal) rules". */
export * from './types';
export { renderDhcpdConfig, renderDhcpdHosts, renderDhcpdZentyalStub } from './dhcp';
export type { DhcpdConfigParams, DhcpdHostsParams } from './dhcp';
export { FIREWALL_JUMPS, renderFirewall, vmChainName } from './firewall';
export type { FirewallParams, FirewallRender } from './firewall';
export { renderNginxSite } from './nginx';
export type { NginxSiteParams, NginxTls } from './nginx';
export { renderDnsZone, renderNamedConfInclude } from './dns';
export type { DnsZoneParams, NamedConfIncludeParams } from './dns';
export {
  GATEWAY_LIBRARY_SCRIPTS,
  ZENTYAL_HOOKS,
  gatewayScriptFiles,
  readGatewayAsset,
  renderAddressesConf,
  renderGatewayConf,
  renderZentyalHook,
} from './scripts';
export type { AddressesConfParams, GatewayConfParams } from './scripts';
export { renderGatewayBundle } from './bundle';
export type { GatewayBundleParams } from './bundle';
