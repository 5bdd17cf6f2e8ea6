/**
 * The shell scripts every Proxmox node gets (docs/ARCHITECTURE.md, "What lands on every Proxmox
 * node"). They live as real `.sh` files beside this module so editors and shellcheck see exactly
 * what runs; this module reads them once, at import, and hands them out with their install path
 * and mode. The text is the same on every node: everything node-specific is read at run time from
 * /etc/cias/cias.conf and /etc/cias/nodes.conf.
 */
import { readFileSync } from 'fs';
import { join } from 'path';

export interface NodeScript {
  /** Command name on the node (the file name under installPath). */
  readonly name: string;
  /** Source file beside this module. */
  readonly sourceFile: string;
  /** Absolute path on the node. */
  readonly installPath: string;
  /** Octal mode: libraries are sourced (0644), commands are executed (0755). */
  readonly mode: '0644' | '0755';
  readonly content: string;
}

export const CIAS_LIB_DIR = '/usr/local/lib/cias';
export const CIAS_SBIN_DIR = '/usr/local/sbin';

/**
 * Debian packages the scripts call beyond Proxmox VE itself: jq parses `pvesh --output-format json`
 * (REFERENCE 6.9: not confirmed to ship with Proxmox VE, so it is installed explicitly).
 */
export const NODE_SCRIPT_PACKAGES: readonly string[] = ['jq', 'iputils-ping', 'util-linux', 'xfsprogs', 'e2fsprogs'];

const LIBRARIES = ['common.sh', 'pve.sh'] as const;

/** Commands; the source file drops `.sh` for the `cias-*` commands, the seed's names keep it. */
const COMMANDS = [
  'keepalived_to_master.sh',
  'keepalived_to_backup.sh',
  'dlll_cias-switch_to_master.sh',
  'cias-node-leave.sh',
  'cias-delete-node.sh',
  'cias-bootstrap-cluster.sh',
  'cias-join-cluster.sh',
  'cias-prepare-disks.sh',
  'cias-uplink-watchdog.sh',
  'cias-export-vmids.sh',
  'cias-liveness.sh',
  'cias-gateway-backup-copy.sh',
] as const;

function load(sourceFile: string, installDir: string, name: string, mode: NodeScript['mode']): NodeScript {
  const content = readFileSync(join(__dirname, sourceFile), 'utf8');
  return { name, sourceFile, installPath: `${installDir}/${name}`, mode, content };
}

function commandName(sourceFile: string): string {
  return sourceFile.startsWith('cias-') ? sourceFile.replace(/\.sh$/, '') : sourceFile;
}

export const nodeScripts: readonly NodeScript[] = Object.freeze([
  ...LIBRARIES.map((file) => load(file, CIAS_LIB_DIR, file, '0644')),
  ...COMMANDS.map((file) => load(file, CIAS_SBIN_DIR, commandName(file), '0755')),
]);

/** The script installed under `name` (e.g. `cias-liveness`, `keepalived_to_master.sh`, `common.sh`). */
export function nodeScript(name: string): NodeScript {
  const script = nodeScripts.find((s) => s.name === name);
  if (script === undefined) throw new Error(`no node script named ${name}`);
  return script;
}
