/**
 * Lab disks: a sparse file per disk listed for a node, attached to a loop device that appears inside
 * that node only, as /dev/<name> (and under its loop name, which blkid reports for UUID= mounts). So
 * cias-prepare-disks formats and mounts real block devices, and no node sees a disk of the host.
 */
import * as fs from 'fs';
import * as path from 'path';
import { run } from './exec';
import { LabPaths, nodeDirs } from './paths';
import { updateState } from './state';
import { LabNodePlan } from './topology';

export interface NodeDisk {
  /** Name inside the node, e.g. `sdb`. */
  readonly device: string;
  /** Loop device on the host, e.g. `/dev/loop3`. */
  readonly loop: string;
  readonly file: string;
}

export function diskFile(paths: LabPaths, node: LabNodePlan, device: string): string {
  return path.join(nodeDirs(paths, node.name).base, 'disks', `${device}.img`);
}

interface LoopDevice {
  readonly name: string;
  readonly 'back-file': string | null;
}

function loopDevices(): LoopDevice[] {
  const result = run('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE']);
  if (result.stdout.trim() === '') return [];
  return (JSON.parse(result.stdout) as { loopdevices: LoopDevice[] }).loopdevices;
}

/** The loop device backed by `file`; losetup marks a removed file with ` (deleted)`. */
function loopOf(file: string): string | undefined {
  return loopDevices().find((device) => device['back-file']?.replace(/ \(deleted\)$/, '') === file)?.name;
}

/** Creates and attaches the node's disks (recorded in the state file before they exist). */
export function createNodeDisks(paths: LabPaths, node: LabNodePlan, sizeMiB: number): NodeDisk[] {
  return node.disks.map((device) => {
    const file = diskFile(paths, node, device);
    updateState(paths, (state) => ({ ...state, diskFiles: [...(state.diskFiles ?? []), file] }));
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const fd = fs.openSync(file, 'w', 0o600);
    try {
      fs.ftruncateSync(fd, sizeMiB * 1024 * 1024);
    } finally {
      fs.closeSync(fd);
    }
    const loop = run('losetup', ['--find', '--show', file]).stdout.trim();
    return { device, loop, file };
  });
}

/** The node's disks with their current loop devices (for booting the node again). */
export function nodeDisks(paths: LabPaths, node: LabNodePlan): NodeDisk[] {
  return node.disks.map((device) => {
    const file = diskFile(paths, node, device);
    const loop = loopOf(file);
    if (!loop) throw new Error(`node ${node.name}: disk ${device} (${file}) is not attached to a loop device`);
    return { device, loop, file };
  });
}

/** Detaches every loop device whose backing file lies under `dir`; returns the loop devices. */
export function detachDisksBelow(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const detached: string[] = [];
  for (const device of loopDevices()) {
    const file = device['back-file']?.replace(/ \(deleted\)$/, '');
    if (!file?.startsWith(prefix)) continue;
    run('losetup', ['--detach', device.name]);
    detached.push(device.name);
  }
  return detached;
}
