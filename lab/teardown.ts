/**
 * `labDown`: removes what the lab created — by the PIDs in the state file (checked against their
 * start time, since PIDs are reused) and by namespace name (every `cias-lab-*` namespace and the
 * processes inside it) — so it works after a crash, after a partial `lab up`, and twice in a row.
 */
import * as fs from 'fs';
import { detachDisksBelow } from './disks';
import { run, sleep } from './exec';
import { withLabLock } from './lock';
import { linkExists, listNamespaces } from './netns';
import { HOST_LEG_INTERFACE, LabPaths, labPaths, NAMESPACE_PREFIX } from './paths';
import { isAlive, LabState, ProcessRecord, readState, removeState } from './state';

export interface LabDownOptions {
  /** @default {@link labPaths}() */
  readonly paths?: LabPaths;
  /** Keep the nodes' overlay directories and logs under the data directory. @default false */
  readonly keepData?: boolean;
}

export interface LabDownReport {
  /** Root-namespace PIDs that were sent SIGKILL. */
  readonly killedPids: readonly number[];
  readonly removedNamespaces: readonly string[];
  readonly removedLinks: readonly string[];
  /** Loop devices of the lab disks. */
  readonly detachedDisks: readonly string[];
  readonly removedData: boolean;
}

function readStateLeniently(paths: LabPaths): LabState | undefined {
  try {
    return readState(paths);
  } catch {
    // A state file cut short by a crash: the namespace sweep below still finds everything.
    return undefined;
  }
}

function kill(pid: number, killed: number[]): void {
  try {
    process.kill(pid, 'SIGKILL');
    killed.push(pid);
  } catch {
    // already gone
  }
}

function namespacePids(namespace: string): number[] {
  const result = run('ip', ['netns', 'pids', namespace], { allowFailure: true });
  if (result.status !== 0) return [];
  return result.stdout
    .split('\n')
    .filter((line) => /^\d+$/.test(line.trim()))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/** Mount points in this mount namespace at or below `dir`. */
function mountsBelow(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mountPoint): mountPoint is string => !!mountPoint && (mountPoint === dir || mountPoint.startsWith(prefix)));
}

export async function labDown(options: LabDownOptions = {}): Promise<LabDownReport> {
  const paths = options.paths ?? labPaths();
  return withLabLock(paths, () => tearDown(paths, options));
}

async function tearDown(paths: LabPaths, options: LabDownOptions): Promise<LabDownReport> {
  const state = readStateLeniently(paths);
  const killed: number[] = [];

  // PID 1 of a node first: its death ends every process of the node's PID namespace at once.
  const records: ProcessRecord[] = [];
  for (const node of Object.values(state?.nodes ?? {})) {
    if (node.init) records.push(node.init);
    if (node.holder) records.push(node.holder);
  }
  for (const record of records) if (isAlive(record)) kill(record.pid, killed);

  const namespaces = [
    ...new Set([...(state?.namespaces ?? []), ...listNamespaces().filter((name) => name.startsWith(NAMESPACE_PREFIX))]),
  ];
  for (let attempt = 0; attempt < 50; attempt++) {
    const left = namespaces.flatMap(namespacePids);
    if (left.length === 0) break;
    for (const pid of left) kill(pid, killed);
    await sleep(100);
  }
  const stragglers = namespaces.flatMap(namespacePids);
  if (stragglers.length > 0) throw new Error(`lab down: processes ${stragglers.join(', ')} survive SIGKILL in the lab namespaces`);

  const existing = new Set(listNamespaces());
  const removedNamespaces: string[] = [];
  for (const namespace of [...namespaces].reverse()) {
    if (!existing.has(namespace)) continue;
    run('ip', ['netns', 'del', namespace]);
    removedNamespaces.push(namespace);
  }

  const removedLinks: string[] = [];
  for (const link of new Set([...(state?.hostLinks ?? []), HOST_LEG_INTERFACE])) {
    // Deleting the switch namespace destroys the leg's peer and with it the leg; this is the fallback.
    if (linkExists(link) && run('ip', ['link', 'del', link], { allowFailure: true }).status === 0) removedLinks.push(link);
    if (linkExists(link)) throw new Error(`lab down: could not delete interface ${link}`);
  }

  // Loop devices of the lab disks: free once no mount namespace holds them.
  const detachedDisks = detachDisksBelow(paths.dataDir);

  let removedData = false;
  if (!options.keepData && fs.existsSync(paths.dataDir)) {
    const mounts = mountsBelow(paths.dataDir);
    if (mounts.length > 0) throw new Error(`lab down: not removing ${paths.dataDir}, mounts below it: ${mounts.join(', ')}`);
    fs.rmSync(paths.dataDir, { recursive: true, force: true });
    removedData = true;
  }
  removeState(paths);
  return { killedPids: killed, removedNamespaces, removedLinks, detachedDisks, removedData };
}
