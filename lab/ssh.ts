/** SSH from the root namespace into lab nodes, as terraform does: operator key, verified host keys. */
import * as fs from 'fs';
import { run, RunOptions, RunResult, waitFor } from './exec';
import { LabPaths } from './paths';

/** Options for `ssh` (and `scp`) that use only the lab's key and known_hosts, never the user's. */
export function sshOptions(paths: LabPaths): string[] {
  return [
    '-F', '/dev/null',
    '-i', paths.operatorKey,
    '-o', 'IdentitiesOnly=yes',
    '-o', `UserKnownHostsFile=${paths.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=5',
    '-o', 'LogLevel=ERROR',
  ];
}

/** Runs `command` (a shell command line) as root on `host` (a node IP, name or the VIP). */
export function labSsh(paths: LabPaths, host: string, command: string, options: RunOptions = {}): RunResult {
  return run('ssh', [...sshOptions(paths), `root@${host}`, command], options);
}

export async function waitForSsh(paths: LabPaths, host: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    `SSH on ${host}`,
    () => (labSsh(paths, host, 'true', { allowFailure: true, timeoutMs: 10_000 }).status === 0 ? true : undefined),
    timeoutMs,
    200,
  );
}

export function writeKnownHosts(paths: LabPaths, lines: readonly string[]): void {
  fs.writeFileSync(paths.knownHosts, lines.map((line) => `${line}\n`).join(''), { mode: 0o644 });
}
