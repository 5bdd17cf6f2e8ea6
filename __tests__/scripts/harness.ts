/**
 * Runs the node scripts for real against the Proxmox shims (lab/shims) and the test doubles in
 * fakes/ (systemctl, shutdown, mfsmaster, ssh, logger, sendmail), in a scratch directory.
 *
 * Every script run happens inside `unshare --mount --net`: a private network namespace with only
 * `lo` and a bridge (no ports) carrying the addresses the test gives (the node's own IP, the VIP when
 * it is the master, the nodes that "answer"), and a private mount namespace where the shared
 * MooseFS directory can be bind-mounted at the node's mount point. Pings go nowhere else, mounts
 * vanish with the process, and nothing needs cleaning up but the scratch directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NodeRuntimeParams, renderCiasConf, renderNodesConf } from '../../render/node-config';

export const REPO = resolve(__dirname, '../..');
export const SCRIPTS_DIR = join(REPO, 'render', 'scripts');
export const SHIMS_DIR = join(REPO, 'lab', 'shims');
export const FAKES_DIR = join(__dirname, 'fakes');
export const VIP = '10.254.0.254';
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TestNode {
  readonly name: string;
  readonly ip: string;
  readonly canBeMaster: boolean;
}

export interface RunOptions {
  /** Addresses on the sandbox's dummy interface besides the node's own IP. @default [] */
  readonly addresses?: readonly string[];
  /** Put the VIP on this node. @default false */
  readonly master?: boolean;
  /** Bind the shared MooseFS directory at the node's mount point. @default false */
  readonly mfsMounted?: boolean;
  /** Extra environment. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** PATH without the Proxmox shims (a host that is not a Proxmox VE node). @default false */
  readonly withoutShims?: boolean;
  readonly input?: string;
  /** @default 60000 */
  readonly timeoutMs?: number;
}

export interface ShimCall {
  readonly node: string;
  readonly cmd: string;
  readonly argv: readonly string[];
}

/** A scratch cluster: cias.conf per node, shared shim state, shared "MooseFS" directory. */
export class ScriptWorld {
  readonly dir: string;
  readonly shimState: string;
  readonly shimLog: string;
  readonly fakeLog: string;
  readonly mfsContent: string;
  private readonly nodes = new Map<string, TestNode>();

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), `cias-scripts-${prefix}-`));
    this.shimState = join(this.dir, 'pve-state');
    this.shimLog = join(this.dir, 'shim-calls.log');
    this.fakeLog = join(this.dir, 'fake-calls.log');
    this.mfsContent = join(this.dir, 'mfs-content');
    mkdirSync(join(this.mfsContent, 'dump'), { recursive: true });
    mkdirSync(join(this.mfsContent, 'cias'), { recursive: true });
    writeFileSync(this.shimLog, '');
    writeFileSync(this.fakeLog, '');
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  nodeDir(name: string): string {
    return join(this.dir, 'nodes', name);
  }

  /**
   * The MooseFS mount point: one path for every node, as on real nodes (the storages in the
   * cluster config name it); each sandbox binds the shared content there in its own mount namespace.
   */
  mfsMount(_name?: string): string {
    return join(this.dir, 'mnt', 'mfs');
  }

  localGatewayDump(name: string): string {
    return join(this.nodeDir(name), 'zentyal.tar.vma');
  }

  /** Adds a node: its cias.conf (rendered by the real renderer) and its machine in the shim state. */
  addNode(node: TestNode, overrides: Partial<NodeRuntimeParams> = {}, machine: { maxmemMb?: number; basememMb?: number } = {}): void {
    this.nodes.set(node.name, node);
    const dir = this.nodeDir(node.name);
    mkdirSync(dir, { recursive: true });
    mkdirSync(this.mfsMount(), { recursive: true });
    const conf = renderCiasConf({
      domain: 'example.com',
      nodeName: node.name,
      nodeFqdn: `pve.rack.a.${node.ip.split('.').slice(2).join('-')}.example.com`,
      nodeIp: node.ip,
      canBeMaster: node.canBeMaster,
      lanInterface: 'vmbr0',
      wanInterface: 'vmbr1',
      masterExternalIp: '192.168.56.101',
      wanPrefix: 24,
      bootstrapIp: '10.254.1.1',
      mfsMount: this.mfsMount(node.name),
      sharedDir: join(this.mfsMount(node.name), 'cias'),
      stateDir: join(dir, 'data-cias'),
      localGatewayDump: this.localGatewayDump(node.name),
      ...overrides,
    });
    writeFileSync(join(dir, 'cias.conf'), conf);
    this.writeNodesConf();
    const args = ['node', node.name, '--ip', node.ip];
    if (machine.maxmemMb !== undefined) args.push('--maxmem-mb', String(machine.maxmemMb));
    if (machine.basememMb !== undefined) args.push('--basemem-mb', String(machine.basememMb));
    this.admin(...args);
  }

  private writeNodesConf(): void {
    const text = renderNodesConf(
      [...this.nodes.values()].map((n) => ({ ip: n.ip, name: n.name, fqdn: `pve.rack.a.${n.ip.split('.').slice(2).join('-')}.example.com`, canBeMaster: n.canBeMaster })),
    );
    writeFileSync(join(this.dir, 'nodes.conf'), text);
  }

  env(nodeName: string, options: RunOptions = {}): Record<string, string> {
    const node = this.nodes.get(nodeName);
    if (node === undefined) throw new Error(`unknown test node ${nodeName}`);
    const dir = this.nodeDir(nodeName);
    const path = options.withoutShims ? `${FAKES_DIR}:${SYSTEM_PATH}` : `${FAKES_DIR}:${SHIMS_DIR}:${SYSTEM_PATH}`;
    return {
      PATH: path,
      HOME: dir,
      LANG: 'C.UTF-8',
      CIAS_CONF: join(dir, 'cias.conf'),
      CIAS_NODES_CONF: join(this.dir, 'nodes.conf'),
      CIAS_LIB: join(SCRIPTS_DIR, 'common.sh'),
      CIAS_LOG_FILE: join(dir, 'cias.log'),
      CIAS_VAR_DIR: join(dir, 'var'),
      CIAS_LOCK_DIR: join(dir, 'lock'),
      CIAS_PVE_DIR: join(this.shimState, 'view', nodeName),
      CIAS_SHIM_STATE: this.shimState,
      CIAS_SHIM_LOG: this.shimLog,
      CIAS_SHIM_NODE: nodeName,
      CIAS_SHIM_NODE_IP: node.ip,
      CIAS_MFSMASTER_CFG: join(dir, 'mfsmaster.cfg'),
      CIAS_MFSMETALOGGER_CFG: join(dir, 'mfsmetalogger.cfg'),
      CIAS_MFS_WAIT_SEC: '3',
      CIAS_SHUTDOWN_SCHEDULE_FILE: join(dir, 'run', 'shutdown-scheduled'),
      CIAS_VIP: VIP,
      FAKE_LOG: this.fakeLog,
      FAKE_STATE: join(dir, 'fake'),
      FAKE_ACTIVE_UNITS: 'systemd-logind keepalived',
      ...options.env,
    };
  }

  /** Runs a script of render/scripts (by file name) as `nodeName`, inside the sandbox. */
  run(nodeName: string, script: string, args: readonly string[] = [], options: RunOptions = {}): RunResult {
    const node = this.nodes.get(nodeName);
    if (node === undefined) throw new Error(`unknown test node ${nodeName}`);
    const addresses = [node.ip, ...(options.master ? [VIP] : []), ...(options.addresses ?? [])];
    const scriptPath = script.startsWith('/') ? script : join(SCRIPTS_DIR, script);
    return sandbox(['bash', scriptPath, ...args], {
      env: this.env(nodeName, options),
      addresses,
      bind: options.mfsMounted ? [this.mfsContent, this.mfsMount(nodeName)] : undefined,
      input: options.input,
      timeoutMs: options.timeoutMs,
    });
  }

  /** cias-shim-admin, outside any sandbox. */
  admin(...args: string[]): string {
    const result = spawnSync(join(SHIMS_DIR, 'cias-shim-admin'), args, {
      encoding: 'utf8',
      env: { PATH: SYSTEM_PATH, CIAS_SHIM_STATE: this.shimState, CIAS_SHIM_LOG: join(this.dir, 'admin-calls.log'), CIAS_SHIM_NODE: 'admin' },
    });
    if (result.status !== 0) throw new Error(`cias-shim-admin ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }

  /** A Proxmox shim command run as `nodeName` (test setup and inspection; not recorded as a script call). */
  pve(nodeName: string, argv: readonly string[], input?: string): RunResult {
    const env = { ...this.env(nodeName), CIAS_SHIM_LOG: join(this.dir, 'setup-calls.log') };
    const result = spawnSync(join(SHIMS_DIR, argv[0]), argv.slice(1), { encoding: 'utf8', env, input, cwd: '/' });
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  pveOk(nodeName: string, argv: readonly string[], input?: string): string {
    const result = this.pve(nodeName, argv, input);
    if (result.status !== 0) throw new Error(`${argv.join(' ')} as ${nodeName} exited ${result.status}: ${result.stderr}`);
    return result.stdout;
  }

  shimCalls(): ShimCall[] {
    return jsonLines(this.shimLog) as ShimCall[];
  }

  fakeCalls(): ShimCall[] {
    return jsonLines(this.fakeLog) as ShimCall[];
  }

  clearCalls(): void {
    writeFileSync(this.shimLog, '');
    writeFileSync(this.fakeLog, '');
  }

  log(nodeName: string): string {
    const file = join(this.nodeDir(nodeName), 'cias.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** Where the cluster's /etc/pve says a VM lives, and whether it runs (the shim's status file). */
  vm(vmid: number): { node: string; status: string } | undefined {
    const nodesDir = join(this.shimState, 'cluster', 'nodes');
    if (!existsSync(nodesDir)) return undefined;
    for (const node of readdirSync(nodesDir)) {
      if (existsSync(join(nodesDir, node, 'qemu-server', `${vmid}.conf`))) {
        const statusFile = join(this.shimState, 'vm-status', String(vmid));
        const running = existsSync(statusFile) && readFileSync(statusFile, 'utf8').trim() === `running ${node}`;
        return { node, status: running ? 'running' : 'stopped' };
      }
    }
    return undefined;
  }

  vmConf(node: string, vmid: number): string | undefined {
    const file = join(this.shimState, 'view', node, 'nodes', node, 'qemu-server', `${vmid}.conf`);
    return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  }

  /** A dump in the shared MooseFS dump directory; the shim's archives are VM configs as text. */
  writeDump(vmid: number, stamp: string, config: string, extension = 'vma'): string {
    const file = join(this.mfsContent, 'dump', `vzdump-qemu-${vmid}-${stamp}.${extension}`);
    writeFileSync(file, config);
    return file;
  }
}

function jsonLines(file: string): unknown[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

const SANDBOX_SETUP = [
  'set -e',
  'ip link set lo up',
  'ip link add cias0 type bridge',
  'ip link set cias0 up',
  'for a in $SANDBOX_ADDRESSES; do ip addr add "$a/32" dev cias0; done',
  'if [ -n "$SANDBOX_BIND_FROM" ]; then mount --bind "$SANDBOX_BIND_FROM" "$SANDBOX_BIND_TO"; fi',
  'unset SANDBOX_ADDRESSES SANDBOX_BIND_FROM SANDBOX_BIND_TO',
  'exec "$@"',
].join('\n');

/** Runs argv in a fresh network and mount namespace (see the module comment). */
export function sandbox(
  argv: readonly string[],
  options: { env: Record<string, string>; addresses?: readonly string[]; bind?: readonly [string, string]; input?: string; timeoutMs?: number },
): RunResult {
  const result = spawnSync('unshare', ['--mount', '--net', '--fork', '--', 'bash', '-c', SANDBOX_SETUP, 'sandbox', ...argv], {
    encoding: 'utf8',
    cwd: '/',
    input: options.input,
    timeout: options.timeoutMs ?? 60_000,
    env: {
      ...options.env,
      SANDBOX_ADDRESSES: (options.addresses ?? []).join(' '),
      SANDBOX_BIND_FROM: options.bind?.[0] ?? '',
      SANDBOX_BIND_TO: options.bind?.[1] ?? '',
      FAKE_KEEPALIVED_IF: 'cias0',
    },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** The argv lists of the calls to one command, optionally by one node. */
export function callsTo(calls: readonly ShimCall[], cmd: string, node?: string): string[][] {
  return calls.filter((c) => c.cmd === cmd && (node === undefined || c.node === node)).map((c) => [...c.argv]);
}
