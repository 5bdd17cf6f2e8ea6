/** Running host commands for the lab: synchronous for short ones, with errors that say what failed. */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';

export interface RunOptions {
  /** Written to the command's stdin. @default nothing (stdin is /dev/null) */
  readonly input?: string;
  /** Replaces the environment. @default the current process environment */
  readonly env?: NodeJS.ProcessEnv;
  /** Return a non-zero status instead of throwing. @default false */
  readonly allowFailure?: boolean;
  /** Kill the command after this long. @default 60000 */
  readonly timeoutMs?: number;
  /** @default the current directory */
  readonly cwd?: string;
  /** {@link runAsync} only: also appends stdout and stderr to this file as they arrive. @default none */
  readonly teeFile?: string;
}

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class LabCommandError extends Error {
  constructor(
    readonly command: readonly string[],
    readonly result: RunResult,
  ) {
    super(`${command.join(' ')} exited ${result.status}: ${(result.stderr || result.stdout).trim().slice(-2000)}`);
    this.name = 'LabCommandError';
  }
}

export function run(command: string, args: readonly string[], options: RunOptions = {}): RunResult {
  const child = spawnSync(command, args, {
    input: options.input ?? '',
    env: options.env ?? process.env,
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 60_000,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.error) throw new Error(`${command} ${args.join(' ')}: ${child.error.message}`);
  const result: RunResult = {
    status: child.status ?? 128 + 9,
    stdout: child.stdout ?? '',
    stderr: child.stderr ?? '',
  };
  if (result.status !== 0 && !options.allowFailure) throw new LabCommandError([command, ...args], result);
  return result;
}

/** Like {@link run} without blocking the event loop: for terraform and other long commands. */
export function runAsync(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const tee = options.teeFile ? fs.openSync(options.teeFile, 'a') : undefined;
    const record = (chunk: Buffer) => {
      if (tee !== undefined) fs.writeSync(tee, chunk);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      record(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      record(chunk);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      if (tee !== undefined) fs.closeSync(tee);
      reject(new Error(`${command} ${args.join(' ')}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (tee !== undefined) fs.closeSync(tee);
      const result: RunResult = { status: code ?? (signal ? 128 + 9 : 1), stdout, stderr };
      if (result.status !== 0 && !options.allowFailure) reject(new LabCommandError([command, ...args], result));
      else resolve(result);
    });
    child.stdin.end(options.input ?? '');
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` until it returns a value other than undefined; throws with `what` after the timeout.
 * @returns the probe's value and how long it took
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<{ value: T; elapsedMs: number }> {
  const start = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return { value, elapsedMs: Date.now() - start };
    } catch (error) {
      lastError = error;
    }
    if (Date.now() - start > timeoutMs) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}
