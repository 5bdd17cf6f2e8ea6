/**
 * One lab command at a time per machine: `lab up` and `lab down` hold a lock directory next to the
 * state file (mkdir is atomic). A lock left by a process that no longer runs is taken over.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LabPaths } from './paths';
import { processStartTime } from './state';

export class LabBusyError extends Error {
  constructor(readonly pid: number) {
    super(`another cias lab command (PID ${pid}) is running; wait for it or stop it`);
    this.name = 'LabBusyError';
  }
}

function lockDir(paths: LabPaths): string {
  return path.join(path.dirname(paths.stateFile), 'lock');
}

function acquire(paths: LabPaths): void {
  const dir = lockDir(paths);
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
      fs.writeFileSync(path.join(dir, 'owner'), `${process.pid} ${processStartTime(process.pid)}\n`);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner = '';
    try {
      owner = fs.readFileSync(path.join(dir, 'owner'), 'utf8');
    } catch {
      // the owner is between mkdir and writing its PID
    }
    const [pid, start] = owner.trim().split(' ').map(Number);
    if (pid && processStartTime(pid) === start) throw new LabBusyError(pid);
    if (!pid && Date.now() - fs.statSync(dir).mtimeMs < 5_000) throw new LabBusyError(0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  throw new Error(`could not take the lab lock ${dir}`);
}

/** Runs `action` holding the lab lock; re-entrant within this process. */
export async function withLabLock<T>(paths: LabPaths, action: () => Promise<T>): Promise<T> {
  const dir = lockDir(paths);
  let owner = '';
  try {
    owner = fs.readFileSync(path.join(dir, 'owner'), 'utf8');
  } catch {
    // not held
  }
  if (Number(owner.split(' ')[0]) === process.pid) return action();
  acquire(paths);
  try {
    return await action();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
