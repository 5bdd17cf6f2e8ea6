/**
 * The lab's record of what it created. Every namespace, root-namespace link and node process is written
 * here *before* it is created, so teardown after a crash still knows what to look for; teardown
 * treats anything already gone as done.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LabPaths } from './paths';
import { LabTopology } from './topology';

/** A process the lab started, identified beyond its PID (PIDs are reused). */
export interface ProcessRecord {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: the process's start time in clock ticks since boot. */
  readonly startTime: number;
}

export interface NodeRecord {
  readonly name: string;
  /** Internal address. */
  readonly ip: string;
  readonly namespace: string;
  /** `unshare`, parent of the node's init; it exits when the init does. */
  readonly holder?: ProcessRecord;
  /** PID 1 of the node's PID namespace: killing it ends every process of the node. */
  readonly init?: ProcessRecord;
}

export interface LabState {
  readonly version: 1;
  readonly createdAt: string;
  readonly topology: LabTopology;
  /** Network namespaces, in creation order. */
  readonly namespaces: readonly string[];
  /** Interfaces created in the root namespace. */
  readonly hostLinks: readonly string[];
  /** Backing files of the lab disks (each attached to a loop device). */
  readonly diskFiles?: readonly string[];
  readonly nodes: Readonly<Record<string, NodeRecord>>;
}

export function readState(paths: LabPaths): LabState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(paths.stateFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const state = JSON.parse(text) as LabState;
  if (state.version !== 1) throw new Error(`${paths.stateFile}: unknown lab state version ${String(state.version)}`);
  return state;
}

export function writeState(paths: LabPaths, state: LabState): void {
  fs.mkdirSync(path.dirname(paths.stateFile), { recursive: true, mode: 0o700 });
  const temporary = `${paths.stateFile}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, paths.stateFile);
}

export function removeState(paths: LabPaths): void {
  fs.rmSync(paths.stateFile, { force: true });
}

/** Read-modify-write of the state file; the lab is driven by one process at a time. */
export function updateState(paths: LabPaths, change: (state: LabState) => LabState): LabState {
  const current = readState(paths);
  if (!current) throw new Error(`no lab state at ${paths.stateFile}`);
  const next = change(current);
  writeState(paths, next);
  return next;
}

export function newState(topology: LabTopology): LabState {
  return { version: 1, createdAt: new Date().toISOString(), topology, namespaces: [], hostLinks: [], nodes: {} };
}

/** The start time of a live process, or undefined when there is no such process. */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[22 - 3]);
  } catch {
    return undefined;
  }
}

export function processRecord(pid: number): ProcessRecord {
  const startTime = processStartTime(pid);
  if (startTime === undefined) throw new Error(`process ${pid} is gone`);
  return { pid, startTime };
}

/** True when the recorded process still runs (same PID and same start time). */
export function isAlive(record: ProcessRecord | undefined): record is ProcessRecord {
  return record !== undefined && processStartTime(record.pid) === record.startTime && !isZombie(record.pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
