/**
 * The shim call log: every call a lab node made to systemctl, shutdown or a Proxmox command shim,
 * one line each — `<UTC time> TAB <node> TAB <program> TAB <arg> …` with each argument in bash
 * `printf %q` quoting. Tests and the drill assert on it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LabPaths } from './paths';

export interface ShimCall {
  readonly time: string;
  readonly node: string;
  readonly program: string;
  readonly args: readonly string[];
}

/** Undoes bash `printf %q` for the forms it produces: backslash escapes and `$'…'` strings. */
export function unquoteBash(word: string): string {
  if (word === "''") return '';
  if (word.startsWith("$'") && word.endsWith("'")) {
    return word.slice(2, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, escape: string) => {
      if (escape.startsWith('x')) return String.fromCharCode(parseInt(escape.slice(1), 16));
      if (/^[0-7]+$/.test(escape)) return String.fromCharCode(parseInt(escape, 8));
      return ({ n: '\n', t: '\t', r: '\r', e: '\x1b', a: '\x07', b: '\b', f: '\f', v: '\v' } as Record<string, string>)[escape] ?? escape;
    });
  }
  return word.replace(/\\(.)/g, '$1');
}

export function parseShimCalls(text: string): ShimCall[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [time, node, program, ...args] = line.split('\t');
      return { time, node, program, args: args.map(unquoteBash) };
    });
}

/** All calls recorded so far in the lab's shared shim log. */
export function readShimCalls(paths: LabPaths): ShimCall[] {
  const file = path.join(paths.sharedDir, 'shim-calls.log');
  return fs.existsSync(file) ? parseShimCalls(fs.readFileSync(file, 'utf8')) : [];
}
