/**
 * The gateway's own iptables rules: DNAT of every forwarded port, masquerading of the LAN, and the
 * filter rules SPEC §6 asks for. Zentyal flushes every table on each firewall restart (REFERENCE §2.4),
 * so the rules live in cias-owned chains loaded by the `firewall.postservice` hook with
 * `iptables-restore --noflush`; the hook then links them in from the built-in chains.
 *
 * Size: the DNAT rules of a VM are merged into runs of consecutive ports with a constant offset and
 * each run becomes one shifted-portmap rule (`--to-destination ip:1-99/50101`, kernel ≥ 4.19,
 * iptables ≥ 1.8). The default rule costs one rule per VM and protocol; each override splits a run.
 * Every VM-management IP gets its own chain, so a new connection walks at most 251 jump rules plus
 * the ~2×495 rules of one IP instead of every rule of the cluster.
 */
import { checkTenantAddress, inSubnet, requireInterfaceName, requireIpv4, requirePort, requirePrefix } from './net';
import { GATEWAY_DEFAULTS, GatewayNas, GatewayVm, PortForward, Protocol } from './types';
import { linesText } from '../large-text';

export interface FirewallParams {
  /** @default 'eth0' */
  readonly wanInterface?: string;
  /** @default '10.0.0.254' */
  readonly lanIp?: string;
  /** @default '10.0.0.0' */
  readonly lanNetwork?: string;
  /** @default 8 */
  readonly lanPrefix?: number;
  readonly proxmoxManagementIp: string;
  /** @default '10.254.0.254' */
  readonly proxmoxVip?: string;
  /** @default 8006 */
  readonly proxmoxUiPort?: number;
  /**
   * Needed when `nas` is not empty.
   * @default undefined
   */
  readonly nasManagementIp?: string;
  /** @default [] */
  readonly nas?: readonly GatewayNas[];
  readonly vms: readonly GatewayVm[];
  /** @default '10.254.0.254' */
  readonly sshAllowedSource?: string;
  /**
   * TCP ports nginx serves on the Proxmox- and NAS-management IPs; accepted in INPUT and never
   * DNATed away.
   * @default [80, 443]
   */
  readonly proxyPorts?: readonly number[];
  /**
   * Merge consecutive forwards into shifted-portmap rules. Off: one rule per forwarded port.
   * @default true
   */
  readonly shiftedPortRanges?: boolean;
}

export interface FirewallRender {
  /** For `iptables-restore --noflush`: only the cias chains (declaring a chain flushes it). */
  readonly hookRules: string;
  /** A complete iptables-restore file: built-in chains, the jumps into the cias chains, the cias chains. */
  readonly fullRuleset: string;
  /** Number of DNAT rules (all forwards of all VMs, the NAS and the Proxmox UI). */
  readonly dnatRuleCount: number;
  /** Chains the hook owns, per table (the hook deletes any other `CIAS-*` chain). */
  readonly chains: { readonly nat: readonly string[]; readonly filter: readonly string[] };
}

/** Where the hook links the cias chains in: first rule of each built-in chain. */
export const FIREWALL_JUMPS = [
  { table: 'nat', chain: 'PREROUTING', target: 'CIAS-PREROUTING' },
  { table: 'nat', chain: 'POSTROUTING', target: 'CIAS-POSTROUTING' },
  { table: 'filter', chain: 'INPUT', target: 'CIAS-INPUT' },
  { table: 'filter', chain: 'FORWARD', target: 'CIAS-FORWARD' },
] as const;

const PORTS_PER_VM = 100;

export function vmChainName(externalIndex: number): string {
  return `CIAS-VM-E${externalIndex}`;
}

export function renderFirewall(params: FirewallParams): FirewallRender {
  const wan = requireInterfaceName(params.wanInterface ?? GATEWAY_DEFAULTS.wanInterface, 'wanInterface');
  const lanIp = requireIpv4(params.lanIp ?? GATEWAY_DEFAULTS.lanIp, 'lanIp');
  const lanNetwork = requireIpv4(params.lanNetwork ?? GATEWAY_DEFAULTS.lanNetwork, 'lanNetwork');
  const lanPrefix = requirePrefix(params.lanPrefix ?? GATEWAY_DEFAULTS.lanPrefix, 'lanPrefix');
  const lan = `${lanNetwork}/${lanPrefix}`;
  const pmIp = requireIpv4(params.proxmoxManagementIp, 'proxmoxManagementIp');
  const pveVip = requireIpv4(params.proxmoxVip ?? GATEWAY_DEFAULTS.proxmoxVip, 'proxmoxVip');
  const pvePort = requirePort(params.proxmoxUiPort ?? GATEWAY_DEFAULTS.proxmoxUiPort, 'proxmoxUiPort');
  const sshSource = requireIpv4(params.sshAllowedSource ?? GATEWAY_DEFAULTS.sshAllowedSource, 'sshAllowedSource');
  const proxyPorts = (params.proxyPorts ?? [80, 443]).map((p) => requirePort(p, 'proxyPorts'));
  const shifted = params.shiftedPortRanges ?? true;
  const nas = params.nas ?? [];
  const nasIp = params.nasManagementIp === undefined ? undefined : requireIpv4(params.nasManagementIp, 'nasManagementIp');
  if (nas.length > 0 && nasIp === undefined) throw new Error('nasManagementIp is required when a NAS is listed');
  if (proxyPorts.includes(pvePort)) throw new Error(`Proxmox UI port ${pvePort} is also a proxy port`);
  if (nasIp === pmIp) throw new Error('the NAS-management IP must differ from the Proxmox-management IP');

  const prerouting: string[] = [];
  const postrouting: string[] = [];
  let dnatRuleCount = 0;

  prerouting.push(dnat(pmIp, 'tcp', `${pvePort}`, `${pveVip}:${pvePort}`));
  dnatRuleCount++;

  const nasTaken = new Set<string>();
  for (const box of nas) {
    const boxIp = requireIpv4(box.ip, `NAS ${box.hostname} ip`);
    for (const f of box.managementForwards) {
      checkForward(f, `NAS ${box.hostname}`);
      const key = `${f.protocol}/${f.externalPort}`;
      if (nasTaken.has(key)) throw new Error(`NAS-management port ${key} is forwarded twice`);
      if (f.protocol === 'tcp' && proxyPorts.includes(f.externalPort)) {
        throw new Error(`NAS ${box.hostname}: tcp/${f.externalPort} is served by the reverse proxy`);
      }
      nasTaken.add(key);
      prerouting.push(dnat(nasIp as string, f.protocol, `${f.externalPort}`, `${boxIp}:${f.internalPort}`));
      dnatRuleCount++;
    }
  }

  const vmChains = new Map<number, { ip: string; vms: GatewayVm[] }>();
  const ipOwner = new Map<string, number>([[pmIp, -1]]);
  if (nasIp !== undefined) ipOwner.set(nasIp, -2);
  const vmids = new Set<number>();
  const checkedExternalIps = new Set<string>();
  for (const vm of params.vms) {
    checkVmIdentity(vm, checkedExternalIps);
    if (vmids.has(vm.vmid)) throw new Error(`VM ${vm.vmid} listed twice`);
    vmids.add(vm.vmid);
    let chain = vmChains.get(vm.externalIndex);
    if (chain === undefined) {
      const owner = ipOwner.get(vm.externalIp);
      if (owner !== undefined) throw new Error(`VM-management IP ${vm.externalIp} (index ${vm.externalIndex}) is already used`);
      ipOwner.set(vm.externalIp, vm.externalIndex);
      chain = { ip: vm.externalIp, vms: [] };
      vmChains.set(vm.externalIndex, chain);
    } else if (chain.ip !== vm.externalIp) {
      throw new Error(`VM ${vm.vmid}: index ${vm.externalIndex} is ${chain.ip}, not ${vm.externalIp}`);
    }
    chain.vms.push(vm);
  }
  const indices = [...vmChains.keys()].sort((a, b) => a - b);
  for (const index of indices) {
    prerouting.push(`-A CIAS-PREROUTING -d ${(vmChains.get(index) as { ip: string }).ip}/32 -j ${vmChainName(index)}`);
  }

  // Backends whose default route is not the gateway (Proxmox nodes, NAS) and LAN clients reaching a
  // LAN server through its public port (hairpin) would answer around the gateway: source-NAT them.
  postrouting.push(`-A CIAS-POSTROUTING -s ${lan} -d ${lan} -m conntrack --ctstate DNAT -j SNAT --to-source ${lanIp}`);
  const backends = [pveVip, ...nas.map((b) => b.ip)].filter((ip, i, all) => all.indexOf(ip) === i);
  for (const ip of backends) {
    postrouting.push(`-A CIAS-POSTROUTING -d ${ip}/32 -m conntrack --ctstate DNAT -j SNAT --to-source ${lanIp}`);
  }
  postrouting.push(`-A CIAS-POSTROUTING -s ${lan} ! -d ${lan} -o ${wan} -j MASQUERADE`);

  const proxyIps = nasIp === undefined ? [pmIp] : [pmIp, nasIp];
  const input = [
    // Loopback stays Zentyal's business (the gateway may talk to itself on any port).
    '-A CIAS-INPUT -i lo -j RETURN',
    `-A CIAS-INPUT -s ${sshSource}/32 -p tcp -m tcp --dport 22 -j ACCEPT`,
    '-A CIAS-INPUT -p tcp -m tcp --dport 22 -j DROP',
    ...proxyIps.map((ip) => `-A CIAS-INPUT -d ${ip}/32 -p tcp -m multiport --dports ${proxyPorts.join(',')} -j ACCEPT`),
    // The Proxmox-management IP holds the zone's delegation (SPEC §2).
    `-A CIAS-INPUT -d ${pmIp}/32 -p udp -m udp --dport 53 -j ACCEPT`,
    `-A CIAS-INPUT -d ${pmIp}/32 -p tcp -m tcp --dport 53 -j ACCEPT`,
  ];
  const forward = [
    '-A CIAS-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    '-A CIAS-FORWARD -m conntrack --ctstate DNAT -j ACCEPT',
    `-A CIAS-FORWARD -s ${lan} ! -d ${lan} -j ACCEPT`,
  ];

  const natChains = ['CIAS-PREROUTING', 'CIAS-POSTROUTING', ...indices.map(vmChainName)];
  const filterChains = ['CIAS-INPUT', 'CIAS-FORWARD'];
  // The VM rules are most of the text (29 MB at full capacity). Each chain's rules are joined as soon
  // as they are made: a quarter million rule strings alive at once cost more to collect than to make.
  const vmRules = indices.map((index) => {
    const rules: string[] = [];
    const name = vmChainName(index);
    for (const vm of (vmChains.get(index) as { vms: GatewayVm[] }).vms) dnatRuleCount += appendVmDnatRules(rules, vm, name, shifted);
    return rules.length > 0 ? [rules.join('\n')] : [];
  });

  const header = '# cias: gateway rules (SPEC §6). Generated from cluster.yaml; do not edit.';
  const declare = (chains: readonly string[]) => chains.map((c) => `:${c} - [0:0]`);
  const jumps = (table: string) =>
    FIREWALL_JUMPS.filter((j) => j.table === table).map((j) => `-A ${j.chain} -j ${j.target}`);
  /** The rules file; `full` adds the built-in chains and the jumps into the cias chains. */
  const text = (full: boolean) =>
    joinLines([
      [header, '*nat'],
      full ? [':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]'] : [],
      declare(natChains),
      full ? jumps('nat') : [],
      prerouting,
      postrouting,
      ...vmRules,
      ['COMMIT', '*filter'],
      full ? [':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]'] : [],
      declare(filterChains),
      full ? jumps('filter') : [],
      input,
      forward,
      ['COMMIT'],
    ]);
  return {
    hookRules: text(false),
    // Only tests load the full ruleset; rendering it is a second copy of every rule (43 MB at full
    // capacity), so it is written when asked for.
    get fullRuleset() {
      return text(true);
    },
    dnatRuleCount,
    chains: { nat: natChains, filter: filterChains },
  };
}

/** Lines of several lists as one text, each line ending in a newline. */
function joinLines(groups: readonly (readonly string[])[]): string {
  return linesText(groups.filter((lines) => lines.length > 0).map((lines) => lines.join('\n')));
}

function dnat(destination: string, protocol: Protocol, ports: string, to: string, chain = 'CIAS-PREROUTING'): string {
  return `-A ${chain} -d ${destination}/32 -p ${protocol} -m ${protocol} --dport ${ports} -j DNAT --to-destination ${to}`;
}

function checkForward(f: PortForward, owner: string): void {
  if (f.protocol !== 'tcp' && f.protocol !== 'udp') throw new Error(`${owner}: protocol ${String(f.protocol)}`);
  requirePort(f.externalPort, `${owner} externalPort`);
  requirePort(f.internalPort, `${owner} internalPort`);
}

/** `checkedExternalIps`: VM-management IPs already checked (hundreds of VMs share each). */
function checkVmIdentity(vm: GatewayVm, checkedExternalIps: Set<string>): void {
  checkTenantAddress(vm);
  if (checkedExternalIps.has(vm.externalIp)) return;
  requireIpv4(vm.externalIp, `VM ${vm.vmid} externalIp`);
  if (inSubnet(vm.externalIp, '10.0.0.0', 8)) throw new Error(`VM ${vm.vmid}: externalIp ${vm.externalIp} is a LAN address`);
  checkedExternalIps.add(vm.externalIp);
}

/**
 * Appends the DNAT rules of one VM to `rules`, in port order, merged into constant-offset runs when
 * `shifted`; returns how many. A VM with only the default rule (most of them) takes a shortcut with
 * the same result: one run of suffixes 1..99 per protocol.
 */
function appendVmDnatRules(rules: string[], vm: GatewayVm, chain: string, shifted: boolean): number {
  const protocols = vm.defaultRuleProtocols ?? [];
  if (shifted && vm.portForwards.length === 0 && protocols.every((p) => p === 'tcp' || p === 'udp')) {
    const first = (vm.vmid % 1000) * PORTS_PER_VM;
    const ports = `${first + 1}:${first + PORTS_PER_VM - 1}`;
    const to = `${vm.internalIp}:1-${PORTS_PER_VM - 1}/${first + 1}`;
    let count = 0;
    for (const protocol of ['tcp', 'udp'] as const) {
      if (!protocols.includes(protocol)) continue;
      rules.push(dnat(vm.externalIp, protocol, ports, to, chain));
      count++;
    }
    return count;
  }
  const own = vmDnatRules(vm, chain, shifted);
  for (const rule of own) rules.push(rule);
  return own.length;
}

/** DNAT rules of one VM, in port order, merged into constant-offset runs when `shifted`. */
function vmDnatRules(vm: GatewayVm, chain: string, shifted: boolean): string[] {
  const first = (vm.vmid % 1000) * PORTS_PER_VM;
  const targets: Record<Protocol, Int32Array | undefined> = { tcp: undefined, udp: undefined };
  const table = (protocol: Protocol) => (targets[protocol] ??= new Int32Array(PORTS_PER_VM).fill(-1));
  for (const protocol of vm.defaultRuleProtocols ?? []) {
    if (protocol !== 'tcp' && protocol !== 'udp') throw new Error(`VM ${vm.vmid}: protocol ${String(protocol)}`);
    const ports = table(protocol);
    for (let suffix = 1; suffix < PORTS_PER_VM; suffix++) ports[suffix] = suffix;
  }
  const explicit = new Set<string>();
  for (const f of vm.portForwards) {
    checkForward(f, `VM ${vm.vmid}`);
    const suffix = f.externalPort - first;
    if (suffix < 0 || suffix >= PORTS_PER_VM) {
      throw new Error(`VM ${vm.vmid}: external port ${f.externalPort} is outside its block ${first}-${first + PORTS_PER_VM - 1}`);
    }
    const key = `${f.protocol}/${f.externalPort}`;
    if (explicit.has(key)) throw new Error(`VM ${vm.vmid}: ${key} is forwarded twice`);
    explicit.add(key);
    table(f.protocol)[suffix] = f.internalPort;
  }

  const rules: string[] = [];
  const d = vm.externalIp;
  for (const protocol of ['tcp', 'udp'] as const) {
    const ports = targets[protocol];
    if (ports === undefined) continue;
    let s = 0;
    while (s < PORTS_PER_VM) {
      if (ports[s] < 0) {
        s++;
        continue;
      }
      let end = s;
      if (shifted) {
        while (end + 1 < PORTS_PER_VM && ports[end + 1] >= 0 && ports[end + 1] - ports[s] === end + 1 - s) end++;
      }
      const ext = first + s;
      if (end === s) {
        rules.push(dnat(d, protocol, `${ext}`, `${vm.internalIp}:${ports[s]}`, chain));
      } else {
        const to = `${vm.internalIp}:${ports[s]}-${ports[end]}/${ext}`;
        rules.push(dnat(d, protocol, `${ext}:${first + end}`, to, chain));
      }
      s = end + 1;
    }
  }
  return rules;
}
