/**
 * Throwaway network namespaces for tests that run real daemons (keepalived, MooseFS).
 *
 * Every namespace name starts with the caller's prefix (`ka-`, `mfs-` …) plus this process id, so
 * parallel helpers and re-runs never collide. `destroy()` stops every process still inside the
 * namespace by PID (they can only be ours) and deletes it; call it from afterAll/finally.
 * Traffic stays inside namespaces the test created (NETWORK SAFETY rule of the brief).
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a program to completion; never through a shell. */
export function run(argv: readonly string[], options: { input?: string; timeoutMs?: number } = {}): RunResult {
  const result = spawnSync(argv[0], argv.slice(1), {
    input: options.input,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 30_000,
  });
  if (result.error) throw new Error(`${argv.join(' ')}: ${result.error.message}`);
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Run a program and throw with its stderr when it fails. */
export function runOk(argv: readonly string[], options: { input?: string; timeoutMs?: number } = {}): string {
  const result = run(argv, options);
  if (result.status !== 0) {
    throw new Error(`${argv.join(' ')} exited ${result.status}\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** Poll `probe` until it returns something other than undefined/false, or fail after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Assert that `probe` stays false/undefined for the whole period (e.g. "never gets the VIP"). */
export async function holdsFor(what: string, probe: () => boolean, periodMs: number, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + periodMs;
  while (Date.now() < deadline) {
    if (probe()) throw new Error(`expected never: ${what}`);
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True while the process exists and has not exited (a zombie waiting for its parent counts as gone). */
function processAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // The state is the first field after the parenthesised command name.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** Send SIGTERM to each PID, wait, then SIGKILL what is left. */
export async function stopPids(pids: readonly number[], graceMs = 5_000): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(processAlive)) await sleep(100);
  for (const pid of pids.filter(processAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A long-running program started by a test; output is collected for failure messages. */
export class Daemon {
  private collected = '';
  private exitCode: number | null | undefined;
  private readonly exitPromise: Promise<void>;

  constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.collected += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.collected += chunk.toString()));
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve();
      });
      child.on('error', (error) => {
        this.collected += `\n[spawn error] ${error.message}`;
        this.exitCode = -1;
        resolve();
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.label} did not start:\n${this.collected}`);
    return this.child.pid;
  }

  get output(): string {
    return this.collected;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Stop by PID: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([this.exitPromise.then(() => 'exited' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exitPromise;
    }
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

export interface MountOptions {
  /** Bind-mounted over /etc/hosts for this program only. */
  readonly hostsFile?: string;
  /** [source, target] pairs bind-mounted for this program only (e.g. a temp dir over /var/lib/mfs). */
  readonly binds?: ReadonlyArray<readonly [string, string]>;
}

export class Netns {
  private constructor(readonly name: string) {}

  /** `<prefix><role>-<pid>`: unique per test process; the prefix names the task (ka-, mfs-). */
  static uniqueName(prefix: string, role: string): string {
    return `${prefix}${role}-${process.pid}`;
  }

  static create(name: string): Netns {
    if (!/^[a-z]+-[a-z0-9-]+$/.test(name)) throw new Error(`netns name ${name} must be <prefix>-<lowercase name>`);
    const ns = new Netns(name);
    if (run(['ip', 'netns', 'list']).stdout.split('\n').some((line) => line.split(' ')[0] === name)) {
      throw new Error(`netns ${name} already exists; refusing to reuse a namespace this test did not create`);
    }
    runOk(['ip', 'netns', 'add', name]);
    ns.ip('link', 'set', 'lo', 'up');
    return ns;
  }

  ip(...args: string[]): string {
    return runOk(['ip', '-n', this.name, ...args]);
  }

  /** A bridge (the usual Proxmox vmbrN) with optional addresses like `10.254.1.1/16`. */
  addBridge(ifname: string, addresses: readonly string[] = []): void {
    this.ip('link', 'add', ifname, 'type', 'bridge');
    this.ip('link', 'set', ifname, 'up');
    for (const address of addresses) this.ip('addr', 'add', address, 'dev', ifname);
  }

  /**
   * A veth pair: `ifname` here (with `addresses`), `peerIfname` in `peer`, optionally enslaved to
   * `peerBridge` there (a switch namespace joining several nodes).
   */
  addVeth(ifname: string, addresses: readonly string[], peer: Netns, peerIfname: string, peerBridge?: string): void {
    this.ip('link', 'add', ifname, 'type', 'veth', 'peer', 'name', peerIfname, 'netns', peer.name);
    if (peerBridge !== undefined) peer.ip('link', 'set', peerIfname, 'master', peerBridge);
    peer.ip('link', 'set', peerIfname, 'up');
    this.ip('link', 'set', ifname, 'up');
    for (const address of addresses) this.ip('addr', 'add', address, 'dev', ifname);
  }

  /** IPv4 addresses (`a.b.c.d/p`) on one interface, or on all when omitted. */
  ipv4Addresses(ifname?: string): string[] {
    const args = ['-4', '-o', 'addr', 'show', ...(ifname === undefined ? [] : ['dev', ifname])];
    return this.ip(...args)
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[3])
      .filter((address): address is string => address !== undefined);
  }

  /**
   * argv that runs `argv` inside this namespace. With `hostsFile` or `binds`, the program also gets a
   * private mount namespace in which those files/directories are bind-mounted (`hostsFile` over
   * /etc/hosts); the host's own files are untouched.
   */
  argv(argv: readonly string[], options: MountOptions = {}): string[] {
    const binds = [...(options.binds ?? []), ...(options.hostsFile === undefined ? [] : [[options.hostsFile, '/etc/hosts'] as const])];
    const privateMounts =
      binds.length === 0
        ? []
        : [
            'unshare', '--mount', '--propagation', 'private', 'sh', '-c',
            'while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 125; shift 2; done; shift; exec "$@"',
            'private-mounts', ...binds.flat(), '--',
          ];
    return ['ip', 'netns', 'exec', this.name, ...privateMounts, ...argv];
  }

  exec(argv: readonly string[], options: MountOptions & { input?: string; timeoutMs?: number } = {}): RunResult {
    return run(this.argv(argv, options), options);
  }

  /**
   * Start a long-running program inside the namespace. `ip netns exec`, `unshare` and `sh -c exec`
   * all exec, so the PID we hold is the program's own.
   */
  spawn(label: string, argv: readonly string[], options: MountOptions = {}): Daemon {
    const full = this.argv(argv, options);
    return new Daemon(label, spawn(full[0], full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** PIDs of every process whose network namespace is this one. */
  pids(): number[] {
    return run(['ip', 'netns', 'pids', this.name])
      .stdout.split('\n')
      .filter((line) => /^\d+$/.test(line.trim()))
      .map(Number);
  }

  /** Stop what still runs inside (by PID) and delete the namespace; safe to call twice. */
  async destroy(): Promise<void> {
    if (!existsSync(`/run/netns/${this.name}`)) return;
    await stopPids(this.pids());
    run(['ip', 'netns', 'del', this.name]);
  }
}
