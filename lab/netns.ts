/**
 * Creates the lab network of a {@link LabTopology}: namespaces, bridges, veths, addresses, routes.
 * Each namespace and root-namespace link is recorded in the state file before it is created.
 */
import { run } from './exec';
import { LabPaths } from './paths';
import { updateState } from './state';
import { LabTopology } from './topology';

function ip(...args: string[]): void {
  run('ip', args);
}

function sysctl(namespace: string | undefined, ...settings: string[]): void {
  const command = ['sysctl', '-q', '-w', ...settings];
  if (namespace) run('ip', ['netns', 'exec', namespace, ...command]);
  else run(command[0], command.slice(1));
}

export function namespaceExists(name: string): boolean {
  return listNamespaces().includes(name);
}

export function listNamespaces(): string[] {
  return run('ip', ['netns', 'list'])
    .stdout.split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name.length > 0);
}

export function linkExists(name: string, namespace?: string): boolean {
  const args = namespace ? ['-n', namespace, 'link', 'show', 'dev', name] : ['link', 'show', 'dev', name];
  return run('ip', args, { allowFailure: true }).status === 0;
}

/**
 * Refuses to start when the root namespace already routes the node network elsewhere or has any
 * route as wide as 10/8: the lab must add exactly one /16 and must not shadow the resolver.
 */
export function assertHostRoutesFree(topology: LabTopology): void {
  const routes = run('ip', ['-4', '-o', 'route', 'show', 'table', 'all']).stdout.split('\n');
  const conflicts = routes.filter((route) => {
    const destination = route.split(' ')[0];
    return destination === topology.hostLeg.network || destination === '10.0.0.0/8';
  });
  if (conflicts.length > 0) {
    throw new Error(`the root namespace already routes the lab's node network:\n${conflicts.join('\n')}`);
  }
  if (linkExists(topology.hostLeg.name)) throw new Error(`interface ${topology.hostLeg.name} already exists in the root namespace`);
}

function addNamespace(paths: LabPaths, name: string): void {
  if (namespaceExists(name)) throw new Error(`namespace ${name} already exists: run lab down first`);
  updateState(paths, (state) => ({ ...state, namespaces: [...state.namespaces, name] }));
  ip('netns', 'add', name);
  ip('-n', name, 'link', 'set', 'lo', 'up');
  // IPv6 autoconfiguration would only add noise (router solicitations, MLD) on the lab segments.
  sysctl(name, 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
}

function addBridge(namespace: string, bridge: string): void {
  // No STP and no forwarding delay: a port forwards at once. Multicast snooping off so VRRP adverts
  // (224.0.0.18) reach every port without a querier.
  ip('-n', namespace, 'link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0');
  ip('-n', namespace, 'link', 'set', bridge, 'up');
}

/** A veth with one end in a bridge of the switch namespace and the other in `peerNamespace`. */
function addPort(topology: LabTopology, bridge: string, port: string, peerNamespace: string, peerName: string): void {
  const sw = topology.switchNamespace;
  ip('-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', peerName, 'netns', peerNamespace);
  ip('-n', sw, 'link', 'set', port, 'master', bridge);
  ip('-n', sw, 'link', 'set', port, 'up');
}

export function createNetwork(paths: LabPaths, topology: LabTopology): void {
  assertHostRoutesFree(topology);
  const sw = topology.switchNamespace;
  addNamespace(paths, sw);
  addBridge(sw, topology.lanBridge);
  addBridge(sw, topology.wanBridge);
  if (topology.sharedSegment) {
    const [lanEnd, wanEnd] = topology.patchPorts;
    ip('-n', sw, 'link', 'add', lanEnd, 'type', 'veth', 'peer', 'name', wanEnd);
    ip('-n', sw, 'link', 'set', lanEnd, 'master', topology.lanBridge, 'up');
    ip('-n', sw, 'link', 'set', wanEnd, 'master', topology.wanBridge, 'up');
  }

  const uplink = topology.uplink;
  addNamespace(paths, uplink.namespace);
  addPort(topology, topology.wanBridge, uplink.switchPort, uplink.namespace, uplink.interface.name);
  ip('-n', uplink.namespace, 'addr', 'add', uplink.interface.cidr as string, 'dev', uplink.interface.name);
  ip('-n', uplink.namespace, 'link', 'set', uplink.interface.name, 'up');
  ip('-n', uplink.namespace, 'addr', 'add', `${uplink.probeIp}/32`, 'dev', 'lo');

  for (const node of topology.nodes) {
    addNamespace(paths, node.namespace);
    addPort(topology, topology.lanBridge, node.switchLanPort, node.namespace, node.lan.name);
    if (node.switchWanPort) addPort(topology, topology.wanBridge, node.switchWanPort, node.namespace, node.wan.name);
    ip('-n', node.namespace, 'addr', 'add', node.lan.cidr as string, 'dev', node.lan.name);
    ip('-n', node.namespace, 'addr', 'add', node.wan.cidr as string, 'dev', node.wan.name);
    ip('-n', node.namespace, 'link', 'set', node.lan.name, 'up');
    ip('-n', node.namespace, 'link', 'set', node.wan.name, 'up');
    ip('-n', node.namespace, 'route', 'add', 'default', 'via', topology.wanGateway, 'dev', node.wan.name);
  }

  const leg = topology.hostLeg;
  updateState(paths, (state) => ({ ...state, hostLinks: [...state.hostLinks, leg.name] }));
  ip('link', 'add', leg.name, 'type', 'veth', 'peer', 'name', leg.switchPort, 'netns', sw);
  ip('-n', sw, 'link', 'set', leg.switchPort, 'master', topology.lanBridge, 'up');
  // Answer ARP only for the leg's own address, and never announce the root namespace's other
  // addresses onto the lab segment.
  sysctl(
    undefined,
    `net.ipv4.conf.${leg.name}.arp_ignore=1`,
    `net.ipv4.conf.${leg.name}.arp_announce=2`,
    `net.ipv6.conf.${leg.name}.disable_ipv6=1`,
  );
  ip('addr', 'add', leg.cidr, 'dev', leg.name);
  ip('link', 'set', leg.name, 'up');
}

/**
 * Addresses (without prefix) on the interfaces of a namespace that are up: an address left on the
 * downed link of a crashed node answers nobody.
 */
export function namespaceAddresses(namespace: string): { readonly ifname: string; readonly address: string }[] {
  const result = run('ip', ['-n', namespace, '-o', '-4', 'addr', 'show', 'up'], { allowFailure: true });
  if (result.status !== 0) return [];
  return result.stdout
    .split('\n')
    .map((line) => /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ ifname: match[1], address: match[2] }));
}
