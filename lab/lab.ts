/** A handle on a running lab, read from its state file: nodes, commands inside them, SSH. */
import { RunOptions, RunResult } from './exec';
import { liveInit, nodeExec, readNodeFile } from './node-host';
import { LabPaths, labPaths } from './paths';
import { labSsh } from './ssh';
import { LabState, NodeRecord, readState } from './state';
import { LabNodePlan, LabTopology } from './topology';

export interface Lab {
  readonly paths: LabPaths;
  readonly topology: LabTopology;
  /** The state file as it is now (node records change when nodes power off and on). */
  state(): LabState;
  plan(name: string): LabNodePlan;
  node(name: string): NodeRecord;
  /** Runs argv inside the node (nsenter), with an SSH session's environment. */
  exec(name: string, argv: readonly string[], options?: RunOptions): RunResult;
  /** Runs a shell command line as root over SSH from the root namespace (host: node name, IP or VIP). */
  ssh(host: string, command: string, options?: RunOptions): RunResult;
  /** A file inside a running node, or undefined when it does not exist. */
  readFile(name: string, file: string): string | undefined;
  /** PID (root namespace) of the node's PID 1. */
  initPid(name: string): number;
}

export function openLab(paths: LabPaths = labPaths()): Lab {
  const current = (): LabState => {
    const state = readState(paths);
    if (!state) throw new Error(`no lab is up (no ${paths.stateFile})`);
    return state;
  };
  const topology = current().topology;
  const record = (name: string): NodeRecord => {
    const found = current().nodes[name];
    if (!found) throw new Error(`no lab node ${name}`);
    return found;
  };
  return {
    paths,
    topology,
    state: current,
    plan(name) {
      const plan = topology.nodes.find((node) => node.name === name);
      if (!plan) throw new Error(`no lab node ${name}`);
      return plan;
    },
    node: record,
    exec: (name, argv, options) => nodeExec(record(name), argv, options),
    // The root namespace has no name service for the lab: node names are mapped to their IPs here.
    ssh: (host, command, options) => labSsh(paths, topology.nodes.find((node) => node.name === host)?.ip ?? host, command, options),
    readFile: (name, file) => readNodeFile(record(name), file),
    initPid: (name) => liveInit(record(name), name).pid,
  };
}
