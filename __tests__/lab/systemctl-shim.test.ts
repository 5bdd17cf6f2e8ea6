/**
 * The lab's systemctl run on the host against unit files in a temporary directory: it must read
 * units the way systemd does (environment files, specifiers, $VAR splitting, drop-ins, conditions,
 * types, User=, RuntimeDirectory=), track main PIDs, stop whole process groups, and record calls.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SYSTEMCTL_SHIM } from '../../lab/layer';
import { NODE_INIT_SCRIPT } from '../../lab/node-host';
import { parseShimCalls } from '../../lab/shim-log';

let dir: string;
let env: NodeJS.ProcessEnv;

function systemctl(...args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(SYSTEMCTL_SHIM, args, { env, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function unit(name: string, text: string): void {
  fs.writeFileSync(path.join(dir, 'lib', name), text);
}

function mainPid(unitName: string): number {
  return Number(fs.readFileSync(path.join(dir, 'state', `${unitName}.pid`), 'utf8').split(' ')[0]);
}

function cmdline(pid: number): string[] {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

async function until(probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!probe()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A daemon that logs its arguments and signals it receives to `<dir>/out/<name>`. */
function daemonScript(name: string): string {
  const file = path.join(dir, 'bin', name);
  fs.writeFileSync(
    file,
    [
      '#!/usr/bin/env bash',
      'set -euo pipefail',
      `out=${path.join(dir, 'out', name)}`,
      'printf "args:%s\\n" "$*" >>"$out"',
      'printf "user:%s\\n" "$(id -un)" >>"$out"',
      'trap \'printf "HUP\\n" >>"$out"\' HUP',
      'sleep 1000 &',
      'while :; do wait || true; done',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return file;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cias-lab-shim-'));
  for (const sub of ['etc', 'lib', 'state', 'log', 'out', 'bin', 'run', 'default']) fs.mkdirSync(path.join(dir, sub));
  fs.chmodSync(dir, 0o755);
  // Daemons running as User=nobody write there too.
  fs.chmodSync(path.join(dir, 'out'), 0o777);
  env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    SYSTEMD_UNIT_PATH: `${dir}/etc:${dir}/lib`,
    CIAS_LAB_UNIT_STATE_DIR: path.join(dir, 'state'),
    CIAS_LAB_UNIT_LOG_DIR: path.join(dir, 'log'),
    CIAS_LAB_RUNTIME_ROOT: path.join(dir, 'run'),
    CIAS_SHIM_LOG: path.join(dir, 'calls.log'),
    CIAS_SHIM_NODE: 'pve-test-a-1-1',
    CIAS_LAB_UNITS: 'alpha beta notifier gated grouped',
  };
});

afterEach(() => {
  // Every daemon a test started, by the PID the shim recorded, with its process group.
  for (const file of fs.readdirSync(path.join(dir, 'state')).filter((name) => name.endsWith('.pid'))) {
    const pid = Number(fs.readFileSync(path.join(dir, 'state', file), 'utf8').split(' ')[0]);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the shim and node-init.sh pass shellcheck', () => {
  const result = spawnSync('shellcheck', ['-x', SYSTEMCTL_SHIM, NODE_INIT_SCRIPT], { encoding: 'utf8' });
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
});

test('start expands EnvironmentFile, Environment and specifiers like systemd; reload sends SIGHUP to $MAINPID', async () => {
  const daemon = daemonScript('alpha');
  fs.writeFileSync(path.join(dir, 'default', 'alpha'), '# comment\nDAEMON_ARGS="-x --flag=1"\nQUOTED=\'a b\'\n');
  unit(
    'alpha.service',
    [
      '[Unit]',
      'Description=Alpha test daemon',
      '[Service]',
      'Type=simple',
      'Environment=NAME=%p "SPACED=one two"',
      `EnvironmentFile=-${dir}/default/%p`,
      `EnvironmentFile=-${dir}/default/missing`,
      `ExecStart=${daemon} --name \${NAME} \${SPACED} $DAEMON_ARGS "\${QUOTED}"`,
      'ExecReload=/bin/kill -HUP $MAINPID',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  );
  expect(systemctl('is-active', 'alpha')).toMatchObject({ status: 3, stdout: 'inactive\n' });
  expect(systemctl('start', 'alpha').status).toBe(0);
  const pid = mainPid('alpha.service');
  expect(cmdline(pid).slice(2)).toEqual(['--name', 'alpha', 'one two', '-x', '--flag=1', 'a b']);
  expect(systemctl('is-active', 'alpha')).toMatchObject({ status: 0, stdout: 'active\n' });
  expect(systemctl('show', '-p', 'MainPID', '--value', 'alpha.service').stdout).toBe(`${pid}\n`);
  // Starting an active unit is a no-op: same main process.
  expect(systemctl('start', 'alpha').status).toBe(0);
  expect(mainPid('alpha.service')).toBe(pid);

  expect(systemctl('reload', 'alpha').status).toBe(0);
  await until(() => fs.readFileSync(path.join(dir, 'out', 'alpha'), 'utf8').includes('HUP'));
  expect(alive(pid)).toBe(true);

  const calls = parseShimCalls(fs.readFileSync(path.join(dir, 'calls.log'), 'utf8'));
  expect(calls.map((call) => [call.node, call.argv])).toEqual([
    ['pve-test-a-1-1', ['is-active', 'alpha']],
    ['pve-test-a-1-1', ['start', 'alpha']],
    ['pve-test-a-1-1', ['is-active', 'alpha']],
    ['pve-test-a-1-1', ['show', '-p', 'MainPID', '--value', 'alpha.service']],
    ['pve-test-a-1-1', ['start', 'alpha']],
    ['pve-test-a-1-1', ['reload', 'alpha']],
  ]);
});

test("stop ends every process of the unit's session; a daemon that dies is reported failed", async () => {
  const daemon = daemonScript('grouped');
  unit('grouped.service', `[Service]\nExecStart=${daemon}\nTimeoutStopSec=5\n`);
  expect(systemctl('start', 'grouped').status).toBe(0);
  const pid = mainPid('grouped.service');
  await until(() => fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() !== '');
  const child = Number(fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]);
  expect(cmdline(child)).toEqual(['sleep', '1000']);
  expect(systemctl('stop', 'grouped').status).toBe(0);
  expect(alive(pid)).toBe(false);
  await until(() => !alive(child));
  expect(systemctl('is-active', 'grouped')).toMatchObject({ status: 3, stdout: 'inactive\n' });

  expect(systemctl('start', 'grouped').status).toBe(0);
  process.kill(-mainPid('grouped.service'), 'SIGKILL');
  await until(() => systemctl('is-active', 'grouped').stdout === 'failed\n');
  expect(systemctl('is-failed', 'grouped').status).toBe(0);
});

test('daemons start with no descriptor of the caller: a lock the caller held is free once it exits', () => {
  unit('alpha.service', '[Service]\nExecStart=/bin/sleep 1000\n');
  const lock = path.join(dir, 'caller.lock');
  const caller = spawnSync('bash', ['-c', `exec 9>${lock} && flock 9 && "$0" start alpha`, SYSTEMCTL_SHIM], { env, encoding: 'utf8' });
  expect(caller.status).toBe(0);
  expect(fs.readdirSync(`/proc/${mainPid('alpha.service')}/fd`).sort()).toEqual(['0', '1', '2']);
  expect(spawnSync('flock', ['-n', lock, 'true']).status).toBe(0);
});

test('Type=notify daemons that exit at start fail the start, as systemctl reports them', () => {
  unit('notifier.service', '[Service]\nType=notify\nExecStart=/bin/sh -c "echo bad config >&2; exit 1"\n');
  const result = systemctl('start', 'notifier');
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('Job for notifier.service failed');
  expect(systemctl('is-active', 'notifier').stdout).toBe('failed\n');
  expect(fs.readFileSync(path.join(dir, 'log', 'notifier.service.log'), 'utf8')).toContain('bad config');
});

test('ConditionFileNotEmpty skips the start without an error, as keepalived without a config', () => {
  const config = path.join(dir, 'gated.conf');
  fs.writeFileSync(config, '');
  unit('gated.service', `[Unit]\nConditionFileNotEmpty=${config}\n[Service]\nExecStart=/bin/sleep 1000\n`);
  expect(systemctl('start', 'gated').status).toBe(0);
  expect(systemctl('is-active', 'gated').stdout).toBe('inactive\n');
  fs.writeFileSync(config, 'x\n');
  expect(systemctl('start', 'gated').status).toBe(0);
  expect(systemctl('is-active', 'gated').stdout).toBe('active\n');
  expect(systemctl('stop', 'gated').status).toBe(0);
});

test('drop-ins override ExecStart; User= and RuntimeDirectory= apply; stop removes the runtime directory', () => {
  const daemon = daemonScript('beta');
  unit('beta.service', '[Service]\nExecStart=/bin/false\nUser=root\nRuntimeDirectory=beta\n');
  fs.mkdirSync(path.join(dir, 'etc', 'beta.service.d'));
  fs.writeFileSync(path.join(dir, 'etc', 'beta.service.d', 'override.conf'), `[Service]\nExecStart=\nExecStart=${daemon} from-drop-in\nUser=nobody\n`);
  expect(systemctl('start', 'beta').status).toBe(0);
  const pid = mainPid('beta.service');
  expect(cmdline(pid).slice(2)).toEqual(['from-drop-in']);
  expect(fs.readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+65534\s/m);
  const runtime = path.join(dir, 'run', 'beta');
  expect(fs.statSync(runtime).uid).toBe(65534);
  expect(systemctl('stop', 'beta').status).toBe(0);
  expect(fs.existsSync(runtime)).toBe(false);
});

test('enable and disable manage [Install] links; units outside the lab set are not found', () => {
  unit('alpha.service', '[Service]\nExecStart=/bin/sleep 1000\n[Install]\nWantedBy=multi-user.target\nAlias=alpha-alias.service\n');
  expect(systemctl('is-enabled', 'alpha')).toMatchObject({ status: 1, stdout: 'disabled\n' });
  expect(systemctl('enable', 'alpha').status).toBe(0);
  const link = path.join(dir, 'etc', 'multi-user.target.wants', 'alpha.service');
  expect(fs.readlinkSync(link)).toBe(path.join(dir, 'lib', 'alpha.service'));
  expect(systemctl('is-enabled', 'alpha')).toMatchObject({ status: 0, stdout: 'enabled\n' });
  // The alias resolves to the unit itself.
  expect(systemctl('start', 'alpha-alias').status).toBe(0);
  expect(systemctl('is-active', 'alpha').stdout).toBe('active\n');
  expect(systemctl('disable', '--now', 'alpha').status).toBe(0);
  expect(fs.existsSync(link)).toBe(false);
  expect(systemctl('is-active', 'alpha').stdout).toBe('inactive\n');

  unit('nginx.service', '[Service]\nExecStart=/bin/sleep 1000\n');
  const refused = systemctl('start', 'nginx');
  expect(refused.status).toBe(5);
  expect(refused.stderr).toContain('Unit nginx.service not found');
  expect(systemctl('frobnicate', 'alpha').status).toBe(1);
});

test('shutdown outside a lab node refuses to signal PID 1', () => {
  const shutdown = path.join(dir, 'bin', 'shutdown');
  fs.symlinkSync(SYSTEMCTL_SHIM, shutdown);
  const result = spawnSync(shutdown, ['-h', 'now'], { env, encoding: 'utf8' });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('not inside a cias lab node');
  const calls = parseShimCalls(fs.readFileSync(path.join(dir, 'calls.log'), 'utf8'));
  expect(calls).toEqual([expect.objectContaining({ cmd: 'shutdown', argv: ['-h', 'now'] })]);
});
