/**
 * A lab node's life: its overlay directories and first files, its PID-1 holder process (node-init.sh
 * in fresh mount/UTS/IPC/PID namespaces inside the node's network namespace), running commands in
 * it, powering it off.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { nodeDisks } from './disks';
import { run, RunOptions, RunResult, waitFor } from './exec';
import { NodeFile, shimEnvironment } from './node-files';
import { nodePveView } from './pve';
import { LAB_SOURCE_DIR, LabPaths, NODE_BOOTED_MARKER, NODE_SHARED_DIR, nodeDirs } from './paths';
import { isAlive, NodeRecord, processRecord, ProcessRecord, updateState } from './state';
import { LabNodePlan } from './topology';

export const NODE_INIT_SCRIPT = path.join(LAB_SOURCE_DIR, 'node-init.sh');
/** PATH inside nodes, as root's login PATH on Debian. */
export const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Units every node boots with; the deployment enables keepalived and MooseFS as it needs. */
const BASE_UNITS = ['rsyslog', 'ssh', 'cron'];

/** Fresh overlay directories for a node (whatever a previous lab left there is removed). */
export function createNodeDirs(paths: LabPaths, node: LabNodePlan): void {
  const dirs = nodeDirs(paths, node.name);
  fs.rmSync(dirs.base, { recursive: true, force: true });
  for (const dir of [dirs.upper, dirs.work, dirs.root, dirs.layerMount]) fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
}

/**
 * Creates `dir` (a path inside the node) in the upper layer, each new component with the mode and
 * owner the host's directory has: an upper directory hides the attributes of the one below it, and a
 * 0700 /etc would lock every daemon user out.
 */
export function mkdirInUpper(upper: string, dir: string): void {
  let current = '';
  for (const part of dir.split('/').filter(Boolean)) {
    current = `${current}/${part}`;
    const target = path.join(upper, current);
    if (fs.existsSync(target)) continue;
    fs.mkdirSync(target);
    let host: fs.Stats | undefined;
    try {
      host = fs.statSync(current);
    } catch {
      host = undefined;
    }
    fs.chmodSync(target, host?.isDirectory() ? host.mode & 0o7777 : 0o755);
    if (host?.isDirectory()) fs.chownSync(target, host.uid, host.gid);
  }
}

/** Writes files into the node's upper layer: what the node sees at those paths once it boots. */
export function writeNodeFiles(paths: LabPaths, node: LabNodePlan, files: readonly NodeFile[]): void {
  const upper = nodeDirs(paths, node.name).upper;
  for (const file of files) {
    const target = path.join(upper, file.path);
    mkdirInUpper(upper, path.dirname(file.path));
    fs.writeFileSync(target, file.content, { mode: file.mode ?? 0o644 });
    fs.chmodSync(target, file.mode ?? 0o644);
  }
  hideHostRoot(upper);
  // /etc/pve is the node's view of the fake cluster kept by the Proxmox shims.
  fs.rmSync(path.join(upper, 'etc/pve'), { force: true, recursive: true });
  fs.symlinkSync(nodePveView(node.name), path.join(upper, 'etc/pve'));
  mkdirInUpper(upper, '/etc/systemd/system/multi-user.target.wants');
  const wants = path.join(upper, 'etc/systemd/system/multi-user.target.wants');
  for (const unit of BASE_UNITS) {
    const link = path.join(wants, `${unit}.service`);
    fs.rmSync(link, { force: true });
    fs.symlinkSync(`/lib/systemd/system/${unit}.service`, link);
  }
}

/** Root's dot files on a fresh Debian install (base-files), instead of the host's. */
const ROOT_DOT_FILES: Readonly<Record<string, string>> = {
  '.bashrc': '/usr/share/base-files/dot.bashrc',
  '.profile': '/usr/share/base-files/dot.profile',
};

/**
 * The node's /root is an opaque overlay directory: the host's /root (its dot files, caches and
 * credentials) stays invisible; the node gets Debian's default dot files and its own .ssh.
 */
function hideHostRoot(upper: string): void {
  const home = path.join(upper, 'root');
  fs.chmodSync(home, 0o700);
  fs.chmodSync(path.join(home, '.ssh'), 0o700);
  run('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', home]);
  for (const [name, source] of Object.entries(ROOT_DOT_FILES)) {
    if (fs.existsSync(source)) fs.copyFileSync(source, path.join(home, name));
  }
}

/** Generates an ed25519 key pair inside the node's upper layer (or on the host) and returns the public key. */
export function generateKey(privateKeyPath: string, comment: string): string {
  fs.mkdirSync(path.dirname(privateKeyPath), { recursive: true, mode: 0o700 });
  fs.rmSync(privateKeyPath, { force: true });
  fs.rmSync(`${privateKeyPath}.pub`, { force: true });
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', privateKeyPath]);
  return fs.readFileSync(`${privateKeyPath}.pub`, 'utf8').trim();
}

export interface NodeKeys {
  /** `ssh-ed25519 AAAA… comment` of the node's sshd. */
  readonly hostKey: string;
  /** root's own key on the node (node-to-node SSH, as in a PVE cluster). */
  readonly rootKey: string;
}

export function generateNodeKeys(paths: LabPaths, node: LabNodePlan): NodeKeys {
  const upper = nodeDirs(paths, node.name).upper;
  mkdirInUpper(upper, '/etc/ssh');
  mkdirInUpper(upper, '/root/.ssh');
  return {
    hostKey: generateKey(path.join(upper, 'etc/ssh/ssh_host_ed25519_key'), `root@${node.name}`),
    rootKey: generateKey(path.join(upper, 'root/.ssh/id_ed25519'), `root@${node.name}`),
  };
}

/** Descendants of `pid` (breadth first) through /proc/<pid>/task/<tid>/children. */
function childrenOf(pid: number): number[] {
  const result: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return result;
  }
  for (const task of tasks) {
    try {
      const text = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) result.push(...text.split(/\s+/).map(Number));
    } catch {
      // the task ended meanwhile
    }
  }
  return result;
}

function pidNamespaceOf(pid: number | 'self'): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** The first descendant of `pid` that lives in another PID namespace: the node's PID 1. */
function findNamespaceInit(pid: number): number | undefined {
  const own = pidNamespaceOf('self');
  const queue = childrenOf(pid);
  while (queue.length > 0) {
    const candidate = queue.shift() as number;
    const namespace = pidNamespaceOf(candidate);
    if (namespace && namespace !== own) return candidate;
    queue.push(...childrenOf(candidate));
  }
  return undefined;
}

function consoleTail(paths: LabPaths, node: LabNodePlan): string {
  try {
    return fs.readFileSync(nodeDirs(paths, node.name).console, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no console output)';
  }
}

/**
 * Starts the node's holder and waits until node-init.sh has booted the base units.
 * @param timeoutMs @default 30000
 */
export async function bootNode(paths: LabPaths, node: LabNodePlan, timeoutMs = 30_000): Promise<NodeRecord> {
  const dirs = nodeDirs(paths, node.name);
  const disks = nodeDisks(paths, node);
  const consoleFd = fs.openSync(dirs.console, 'a');
  const env: NodeJS.ProcessEnv = {
    PATH: NODE_PATH,
    LANG: 'C.UTF-8',
    HOME: '/root',
    ...shimEnvironment(node),
    CIAS_LAB_NODE_NAME: node.name,
    CIAS_LAB_UPPER: dirs.upper,
    CIAS_LAB_WORK: dirs.work,
    CIAS_LAB_ROOT: dirs.root,
    CIAS_LAB_LAYER: paths.layerDir,
    CIAS_LAB_LAYER_MOUNT: dirs.layerMount,
    CIAS_LAB_SHARED: paths.sharedDir,
    CIAS_LAB_SHARED_MOUNT: NODE_SHARED_DIR,
    CIAS_LAB_BOOTED_MARKER: NODE_BOOTED_MARKER,
    // "sdb:/dev/loop3 sdc:/dev/loop4": the block devices node-init.sh puts into the node's /dev.
    CIAS_LAB_DISKS: disks.map((disk) => `${disk.device}:${disk.loop}`).join(' '),
  };
  const holder = spawn(
    'ip',
    ['netns', 'exec', node.namespace, 'unshare', '--mount', '--uts', '--ipc', '--pid', '--fork', '--propagation', 'private', '--', '/bin/bash', NODE_INIT_SCRIPT],
    { detached: true, stdio: ['ignore', consoleFd, consoleFd], env },
  );
  fs.closeSync(consoleFd);
  holder.unref();
  if (holder.pid === undefined) throw new Error(`node ${node.name}: could not start its holder process`);
  const holderPid = holder.pid;
  const holderRecord = processRecord(holderPid);
  updateState(paths, (state) => ({
    ...state,
    nodes: { ...state.nodes, [node.name]: { name: node.name, ip: node.ip, namespace: node.namespace, holder: holderRecord } },
  }));

  const { value: initPid } = await waitFor(
    `node ${node.name}: PID 1 of its namespace`,
    () => {
      if (!isAlive(holderRecord)) throw new Error(`holder exited:\n${consoleTail(paths, node)}`);
      return findNamespaceInit(holderPid);
    },
    5_000,
    20,
  );
  const init = processRecord(initPid);
  const record: NodeRecord = { name: node.name, ip: node.ip, namespace: node.namespace, holder: holderRecord, init };
  updateState(paths, (state) => ({ ...state, nodes: { ...state.nodes, [node.name]: record } }));

  await waitFor(
    `node ${node.name} to boot`,
    () => {
      if (!isAlive(init)) throw new Error(`node init exited:\n${consoleTail(paths, node)}`);
      return fs.existsSync(`/proc/${init.pid}/root${NODE_BOOTED_MARKER}`) ? true : undefined;
    },
    timeoutMs,
    50,
  );
  return record;
}

/** The node's PID 1, or an error saying the node is off. */
export function liveInit(record: NodeRecord | undefined, name: string): ProcessRecord {
  if (!record || !isAlive(record.init)) throw new Error(`lab node ${name} is not running`);
  return record.init;
}

/**
 * Runs a command inside a node: its network, mount, UTS, IPC and PID namespaces, its root, with the
 * environment an SSH session there gets.
 */
export function nodeExec(record: NodeRecord, argv: readonly string[], options: RunOptions = {}): RunResult {
  const init = liveInit(record, record.name);
  const environment = Object.entries({ PATH: NODE_PATH, HOME: '/root', LANG: 'C.UTF-8', USER: 'root', LOGNAME: 'root', SHELL: '/bin/bash' });
  return run(
    'nsenter',
    [
      '-t', String(init.pid), '-m', '-u', '-i', '-n', '-p', '-r', '-w', '--',
      'env', '-i', ...environment.map(([key, value]) => `${key}=${value}`),
      ...Object.entries(shimEnvironment(record)).map(([key, value]) => `${key}=${value}`),
      ...argv,
    ],
    options,
  );
}

/** Reads a file inside a running node (through /proc/<init>/root), or undefined when it is missing. */
export function readNodeFile(record: NodeRecord, file: string): string | undefined {
  const init = liveInit(record, record.name);
  try {
    return fs.readFileSync(`/proc/${init.pid}/root${file}`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
