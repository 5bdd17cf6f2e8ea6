/** `labStatus`: what the lab looks like now, from the state file and the live namespaces. */
import { addressHolders, nodeProcesses } from './daemons';
import { listNamespaces } from './netns';
import { LabPaths, labPaths, NAMESPACE_PREFIX } from './paths';
import { isAlive, readState } from './state';

/** Daemons status reports per node (process names as in /proc/<pid>/comm). */
export const WATCHED_DAEMONS = [
  'sshd', 'cron', 'rsyslogd', 'keepalived', 'mfsmaster', 'mfschunkserver', 'mfsmetalogger', 'mfscgiserv',
  // mfsmount started by mount(8) keeps the helper's name.
  'mfsmount', 'mount.moosefs',
] as const;

export interface LabNodeStatus {
  readonly name: string;
  readonly ip: string;
  readonly canBeMaster: boolean;
  readonly namespace: string;
  /** `on`: PID 1 runs; `off`: powered off (namespace left); `missing`: its namespace is gone. */
  readonly power: 'on' | 'off' | 'missing';
  readonly holdsVip: boolean;
  readonly holdsMasterIp: boolean;
  /** Number of processes per watched daemon name. */
  readonly daemons: Readonly<Record<string, number>>;
}

export interface LabStatus {
  /** A state file exists (the lab was brought up and not taken down). */
  readonly up: boolean;
  readonly createdAt?: string;
  readonly vip?: string;
  readonly masterExternalIp?: string;
  readonly nodes: readonly LabNodeStatus[];
  /** `cias-lab-*` namespaces that exist but are not in the state file (left by a crash). */
  readonly strayNamespaces: readonly string[];
}

export function labStatus(paths: LabPaths = labPaths()): LabStatus {
  const state = readState(paths);
  const namespaces = listNamespaces().filter((name) => name.startsWith(NAMESPACE_PREFIX));
  if (!state) return { up: false, nodes: [], strayNamespaces: namespaces };
  const topology = state.topology;
  const vipHolders = new Set(addressHolders(topology, topology.vip));
  const masterIpHolders = new Set(addressHolders(topology, topology.masterExternalIp));
  const nodes = topology.nodes.map((node): LabNodeStatus => {
    const record = state.nodes[node.name];
    const on = record !== undefined && isAlive(record.init);
    const daemons: Record<string, number> = {};
    if (on) {
      const processes = nodeProcesses(record);
      for (const daemon of WATCHED_DAEMONS) daemons[daemon] = processes.filter((p) => p.comm === daemon).length;
    }
    return {
      name: node.name,
      ip: node.ip,
      canBeMaster: node.canBeMaster,
      namespace: node.namespace,
      power: on ? 'on' : namespaces.includes(node.namespace) ? 'off' : 'missing',
      holdsVip: vipHolders.has(node.name),
      holdsMasterIp: masterIpHolders.has(node.name),
      daemons,
    };
  });
  return {
    up: true,
    createdAt: state.createdAt,
    vip: topology.vip,
    masterExternalIp: topology.masterExternalIp,
    nodes,
    strayNamespaces: namespaces.filter((name) => !state.namespaces.includes(name)),
  };
}

export function formatLabStatus(status: LabStatus): string {
  if (!status.up) {
    return status.strayNamespaces.length
      ? `no lab is up, but these namespaces are left: ${status.strayNamespaces.join(', ')} (run lab down)`
      : 'no lab is up';
  }
  const lines = [`lab up since ${status.createdAt}; VIP ${status.vip}, master external IP ${status.masterExternalIp}`];
  for (const node of status.nodes) {
    const roles = [node.holdsVip ? 'VIP' : '', node.holdsMasterIp ? 'external IP' : ''].filter(Boolean).join('+');
    const daemons = Object.entries(node.daemons)
      .filter(([, count]) => count > 0)
      .map(([name]) => name)
      .join(' ');
    lines.push(
      `${node.name.padEnd(24)} ${node.ip.padEnd(12)} ${node.power.padEnd(7)} ${(node.canBeMaster ? 'strong' : 'weak').padEnd(6)} ${roles.padEnd(15)} ${daemons}`,
    );
  }
  if (status.strayNamespaces.length) lines.push(`stray namespaces: ${status.strayNamespaces.join(', ')}`);
  return lines.join('\n');
}
