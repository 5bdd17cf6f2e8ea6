/**
 * The read-only overlay layer every node sees above the host root: the lab's `systemctl` at
 * /usr/bin/systemctl (Debian's shutdown/poweroff/halt/reboot links resolve to it) and the Proxmox
 * command shims of lab/shims/ where Proxmox installs the real commands, so scripts find them by
 * name or by absolute path.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LAB_SOURCE_DIR, LabPaths, PROXMOX_SHIM_DIR } from './paths';

export const SYSTEMCTL_SHIM = path.join(LAB_SOURCE_DIR, 'systemctl-shim');
/** Inside nodes: a copy of lab/shims/, so shims can source files beside them. */
export const NODE_PROXMOX_SHIM_DIR = '/usr/lib/cias-lab/shims';

/** Where Proxmox VE puts its commands; any other executable shim goes to /usr/sbin. */
const PROXMOX_COMMAND_DIRS: Readonly<Record<string, string>> = {
  pvecm: '/usr/bin',
  pvesh: '/usr/bin',
  vzdump: '/usr/bin',
  pvenode: '/usr/bin',
  pveversion: '/usr/bin',
  pvesm: '/usr/sbin',
  qm: '/usr/sbin',
  qmrestore: '/usr/sbin',
  pct: '/usr/sbin',
  'ha-manager': '/usr/sbin',
};

export interface LayerContents {
  /** Paths inside nodes that run a lab shim instead of the host's command. */
  readonly commands: readonly string[];
}

function isExecutableFile(file: string): boolean {
  const stat = fs.statSync(file);
  return stat.isFile() && (stat.mode & 0o111) !== 0;
}

/** Rebuilds the shim layer from the repository's lab/ directory. */
export function buildLayer(paths: LabPaths, proxmoxShimDir = PROXMOX_SHIM_DIR): LayerContents {
  const layer = paths.layerDir;
  fs.rmSync(layer, { recursive: true, force: true });
  const commands: string[] = [];
  const install = (nodePath: string, content: string | Buffer) => {
    const target = path.join(layer, nodePath);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    fs.writeFileSync(target, content, { mode: 0o755 });
    fs.chmodSync(target, 0o755);
    commands.push(nodePath);
  };
  install('/usr/bin/systemctl', fs.readFileSync(SYSTEMCTL_SHIM));

  if (fs.existsSync(proxmoxShimDir)) {
    const copy = path.join(layer, NODE_PROXMOX_SHIM_DIR);
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.cpSync(proxmoxShimDir, copy, { recursive: true });
    for (const entry of fs.readdirSync(proxmoxShimDir).sort()) {
      const source = path.join(proxmoxShimDir, entry);
      if (entry.includes('.') || !isExecutableFile(source)) continue;
      const dir = PROXMOX_COMMAND_DIRS[entry] ?? '/usr/sbin';
      // A wrapper rather than a symlink: the shim runs from its own directory, beside its helpers.
      install(
        `${dir}/${entry}`,
        [
          '#!/usr/bin/env bash',
          `# cias lab: the Proxmox command shim lab/shims/${entry}.`,
          'set -euo pipefail',
          `exec ${NODE_PROXMOX_SHIM_DIR}/${entry} "$@"`,
          '',
        ].join('\n'),
      );
    }
  }
  return { commands };
}

/** The shared directory nodes see at /var/lib/cias-lab: the shim call log and the fake PVE state. */
export function createSharedDir(paths: LabPaths): void {
  fs.rmSync(paths.sharedDir, { recursive: true, force: true });
  fs.mkdirSync(paths.sharedDir, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(paths.sharedDir, 'shim-calls.log'), '');
}
