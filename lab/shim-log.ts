/**
 * The shim call log: every call a lab node made to systemctl, shutdown or a Proxmox command shim,
 * one JSON line each, `{ts, node, cmd, argv, cwd}` (written by lab/systemctl-shim and
 * lab/shims/shim-lib.sh). Tests and the drill assert on it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LabPaths } from './paths';

export interface ShimCall {
  /** UTC, millisecond resolution. */
  readonly ts: string;
  /** The node that made the call. */
  readonly node: string;
  /** Program name: `systemctl`, `shutdown`, `pvecm`, `qm`, … */
  readonly cmd: string;
  readonly argv: readonly string[];
  readonly cwd: string;
}

export function parseShimCalls(text: string): ShimCall[] {
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line, index) => {
      try {
        return JSON.parse(line) as ShimCall;
      } catch {
        throw new Error(`shim call log line ${index + 1} is not JSON: ${line}`);
      }
    });
}

/** All calls recorded so far in the lab's shared shim log. */
export function readShimCalls(paths: LabPaths): ShimCall[] {
  const file = path.join(paths.sharedDir, 'shim-calls.log');
  return fs.existsSync(file) ? parseShimCalls(fs.readFileSync(file, 'utf8')) : [];
}
