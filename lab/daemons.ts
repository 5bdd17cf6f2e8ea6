/**
 * What runs in the nodes, seen from the root namespace: processes per node (by PID namespace), units
 * through the node's systemctl, who holds an address. Used by checks, status, tests and the drill.
 */
import * as fs from 'fs';
import { RunResult } from './exec';
import { namespaceAddresses } from './netns';
import { nodeExec, liveInit } from './node-host';
import { NodeRecord } from './state';
import { LabTopology } from './topology';

export interface NodeProcess {
  /** PID in the root namespace (what `kill` from here takes). */
  readonly pid: number;
  /** PID inside the node. */
  readonly nodePid: number;
  readonly comm: string;
  readonly args: readonly string[];
}

function readOrUndefined(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every live process of a node: exactly those in the PID namespace of its init. */
export function nodeProcesses(record: NodeRecord): NodeProcess[] {
  const init = liveInit(record, record.name);
  const namespace = fs.readlinkSync(`/proc/${init.pid}/ns/pid`);
  const result: NodeProcess[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let processNamespace: string;
    try {
      processNamespace = fs.readlinkSync(`/proc/${entry}/ns/pid`);
    } catch {
      continue;
    }
    if (processNamespace !== namespace) continue;
    const status = readOrUndefined(`/proc/${entry}/status`);
    const cmdline = readOrUndefined(`/proc/${entry}/cmdline`);
    if (!status || cmdline === undefined || /^State:\s+Z/m.test(status)) continue;
    const nsPids = /^NSpid:\s+(.+)$/m.exec(status)?.[1].trim().split(/\s+/).map(Number) ?? [];
    result.push({
      pid: Number(entry),
      nodePid: nsPids[nsPids.length - 1] ?? Number(entry),
      comm: /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '',
      args: cmdline.split('\0').filter((arg) => arg.length > 0),
    });
  }
  return result.sort((a, b) => a.nodePid - b.nodePid);
}

/** Processes of a node whose command name (`comm`, at most 15 characters) is `comm`. */
export function nodeProcessesNamed(record: NodeRecord, comm: string): NodeProcess[] {
  return nodeProcesses(record).filter((process) => process.comm === comm);
}

/** `systemctl <args…>` inside the node (the lab shim), never throwing on a non-zero status. */
export function nodeSystemctl(record: NodeRecord, ...args: string[]): RunResult {
  return nodeExec(record, ['systemctl', ...args], { allowFailure: true, timeoutMs: 330_000 });
}

/** Names of the nodes whose interfaces carry `address`. */
export function addressHolders(topology: LabTopology, address: string): string[] {
  return topology.nodes
    .filter((node) => namespaceAddresses(node.namespace).some((entry) => entry.address === address))
    .map((node) => node.name);
}

/** Sends `signal` to every process of the node named `comm`; returns the root-namespace PIDs. */
export function signalNodeProcesses(record: NodeRecord, comm: string, signal: NodeJS.Signals): number[] {
  const targets = nodeProcessesNamed(record, comm).map((process) => process.pid);
  for (const pid of targets) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
  return targets;
}
