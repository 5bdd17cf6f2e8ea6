/**
 * The lab for real: three nodes and an uplink host come up; each node is reached by SSH from the root
 * namespace and is a machine of its own (hostname, /etc, mount and PID namespaces, cron); keepalived
 * started through the systemctl shim elects one of the two strong nodes and moves the VIPs when that
 * master crashes; MooseFS daemons and FUSE run inside the nodes so the final lab check passes;
 * terraform provisions a node over SSH; teardown leaves nothing behind.
 *
 * The daemon configs here are minimal hand-written ones: they test the lab, not the renderers (the
 * real deployment replaces this step with `terraform apply` of the hosts stack).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readState } from '../../lab/state';
import {
  addressHolders,
  checkLab,
  DEFAULT_LAB_NODES,
  formatCheckReport,
  formatLabStatus,
  Lab,
  labDown,
  labPaths,
  labStatus,
  labUp,
  nodeProcessesNamed,
  powerOnNode,
  readShimCalls,
  signalNodeProcesses,
  terraformApply,
  terraformInit,
  terraformPlanIsEmpty,
} from '../../lab';
import { run, waitFor } from '../../lab/exec';

jest.setTimeout(120_000);

const paths = labPaths();
const VIP = '10.254.0.254';
const MASTER_EXT_IP = '192.168.56.101';
const STRONG = DEFAULT_LAB_NODES.filter((node) => node.canBeMaster).map((node) => node.name);
const WEAK = DEFAULT_LAB_NODES.find((node) => !node.canBeMaster)?.name as string;
const CRON_FILE = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'MAILTO=""',
  '* * * * * root systemctl is-active cron >/root/cron-proof 2>&1',
  '',
].join('\n');

let lab: Lab;
let master: string;
/** When the cron file reached the nodes; its job first runs at the next minute boundary. */
let cronInstalledAt: number;

function keepalivedConfig(name: string, ip: string, priority: number | undefined): string {
  const global = ['global_defs {', `  router_id ${name}`, '  enable_script_security', '  script_user root', '}'];
  if (priority === undefined) return [...global, ''].join('\n');
  return [
    ...global,
    'vrrp_instance VI_CIAS {',
    '  state BACKUP',
    '  interface vmbr0',
    '  virtual_router_id 54',
    `  priority ${priority}`,
    '  advert_int 1',
    '  nopreempt',
    `  unicast_src_ip ${ip}`,
    '  unicast_peer {',
    ...DEFAULT_LAB_NODES.filter((node) => node.canBeMaster && node.ip !== ip).map((node) => `    ${node.ip}`),
    '  }',
    '  virtual_ipaddress {',
    `    ${VIP}/8 dev vmbr0`,
    `    ${MASTER_EXT_IP}/24 dev vmbr0`,
    '  }',
    '  notify_master /usr/local/sbin/lab-became-master',
    '}',
    '',
  ].join('\n');
}

const NOTIFY_SCRIPT = [
  '#!/usr/bin/env bash',
  'set -euo pipefail',
  'logger -t cias "lab test: $(hostname) became master"',
  'systemctl is-active keepalived >/dev/null',
  '',
].join('\n');

/** Writes a file on a node over SSH, as a provisioner would. */
function push(host: string, file: string, content: string, mode = '0644'): void {
  lab.ssh(host, `install -D -m ${mode} /dev/stdin ${file}`, { input: content });
}

/** A process that exists and is not a zombie waiting for its parent (this test runner) to reap it. */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function vipHolders(): string[] {
  return addressHolders(lab.topology, VIP);
}

let ours = false;

beforeAll(async () => {
  ({ lab } = await labUp());
  ours = true;
}, 90_000);

afterAll(async () => {
  // Never take down a lab this file did not bring up (another run's, or an operator's).
  if (ours) await labDown();
}, 60_000);

test('the root namespace reaches the nodes through one /16 leg and has no 10/8 route', () => {
  const routes = run('ip', ['-4', 'route', 'show']).stdout;
  expect(routes).toMatch(/^10\.254\.0\.0\/16 dev cias-lab0 proto kernel scope link src 10\.254\.255\.1/m);
  expect(routes).not.toMatch(/^10\.0\.0\.0\/8/m);
  expect(run('ip', ['-4', 'route', 'get', '10.255.255.53']).stdout).not.toContain('cias-lab0');
  // The uplink host answers the probe address on the WAN side only.
  expect(lab.ssh('10.254.1.3', 'ping -c 1 -W 2 198.51.100.1 >/dev/null && echo reachable').stdout).toBe('reachable\n');
});

test('every node answers SSH with the generated key and is a machine of its own', () => {
  for (const node of lab.topology.nodes) {
    const [hostname, marker, pid1, path1] = lab
      .ssh(node.ip, 'hostname; head -n 1 /etc/cias-lab/node; tr "\\0" " " </proc/1/cmdline; echo; echo "$PATH"')
      .stdout.split('\n');
    expect(hostname).toBe(node.name);
    expect(marker).toBe(`CIAS_LAB_NODE=${node.name}`);
    expect(pid1).toContain('node-init.sh');
    expect(path1).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  }
  // Own mount namespace and root: a file written on one node exists nowhere else.
  const [a, b] = lab.topology.nodes;
  lab.ssh(a.ip, 'mkdir -p /etc/cias && echo only-a >/etc/cias/probe');
  expect(lab.readFile(a.name, '/etc/cias/probe')).toBe('only-a\n');
  expect(lab.readFile(b.name, '/etc/cias/probe')).toBeUndefined();
  expect(fs.existsSync('/etc/cias/probe')).toBe(false);
  const mountNamespaces = new Set(lab.topology.nodes.map((node) => fs.readlinkSync(`/proc/${lab.initPid(node.name)}/ns/mnt`)));
  mountNamespaces.add(fs.readlinkSync('/proc/self/ns/mnt'));
  expect(mountNamespaces.size).toBe(lab.topology.nodes.length + 1);
  // Key only: password authentication is not offered.
  const refused = run(
    'ssh',
    ['-F', '/dev/null', '-o', `UserKnownHostsFile=${paths.knownHosts}`, '-o', 'BatchMode=yes', '-o', 'PreferredAuthentications=password', `root@${a.ip}`, 'true'],
    { allowFailure: true },
  );
  expect(refused.status).toBe(255);
  expect(refused.stderr).toContain('Permission denied (publickey)');
  // Each node has its own data disk, a loop device of the host, and no other block device.
  for (const node of lab.topology.nodes) {
    expect(lab.ssh(node.ip, 'blockdev --getsize64 /dev/sdb; ls /dev | grep -c "^loop"').stdout).toBe(`${12288 * 1024 * 1024}\n1\n`);
  }
  // Nodes reach each other as root, as members of a PVE cluster do.
  expect(lab.ssh(a.ip, `ssh -o BatchMode=yes ${b.name} hostname`).stdout).toBe(`${b.name}\n`);
  // The cron job checked at the end of this file.
  for (const node of lab.topology.nodes) push(node.ip, '/etc/cron.d/cias', CRON_FILE);
  cronInstalledAt = Date.now();
});

test('keepalived started through the systemctl shim elects one strong node; the weak node has no instance', async () => {
  const priorities: Record<string, number> = { [STRONG[0]]: 150, [STRONG[1]]: 120 };
  for (const node of lab.topology.nodes) {
    push(node.ip, '/etc/keepalived/keepalived.conf', keepalivedConfig(node.name, node.ip, priorities[node.name]));
    push(node.ip, '/usr/local/sbin/lab-became-master', NOTIFY_SCRIPT, '0755');
    expect(lab.ssh(node.ip, 'keepalived -t -e -f /etc/keepalived/keepalived.conf; echo "exit $?"').stdout).toBe('exit 0\n');
    lab.ssh(node.ip, 'systemctl enable keepalived && systemctl start keepalived');
  }
  const { value: holders } = await waitFor('one VIP holder', () => (vipHolders().length === 1 ? vipHolders() : undefined), 20_000);
  master = holders[0];
  expect(STRONG).toContain(master);
  // Stable: after more advert intervals still one holder, and both VIPs on it.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(vipHolders()).toEqual([master]);
  expect(addressHolders(lab.topology, MASTER_EXT_IP)).toEqual([master]);
  for (const node of lab.topology.nodes) expect(nodeProcessesNamed(lab.node(node.name), 'keepalived').length).toBeGreaterThan(0);
  expect(lab.ssh(WEAK, 'systemctl is-active keepalived').stdout).toBe('active\n');

  const calls = readShimCalls(paths).filter((call) => call.cmd === 'systemctl');
  for (const node of lab.topology.nodes) {
    expect(calls).toContainEqual(expect.objectContaining({ node: node.name, argv: ['start', 'keepalived'], cwd: '/root' }));
  }
  // The notify script ran under keepalived, found the shim on its PATH and logged to the node's syslog.
  await waitFor('notify_master on the master', () =>
    readShimCalls(paths).some((call) => call.node === master && call.argv.join(' ') === 'is-active keepalived' && call.cwd === '/')
      ? true
      : undefined,
  5_000);
  expect(lab.readFile(master, '/var/log/syslog')).toContain(`lab test: ${master} became master`);
});

test('MooseFS daemons and FUSE run inside the nodes and the lab check passes', async () => {
  const bare = await checkLab(lab.state(), { timeoutMs: 2_000 });
  expect(bare.ok).toBe(false);
  expect(bare.results.find((result) => result.check === 'mfsmaster only on the master')).toMatchObject({ ok: false, detail: 'mfsmaster runs on no node' });

  lab.ssh(
    master,
    [
      `printf 'WORKING_USER = mfs\\nWORKING_GROUP = mfs\\nDATA_PATH = /var/lib/mfs\\n' >/etc/mfs/mfsmaster.cfg`,
      `printf '10.254.0.0/16 / rw,alldirs,maproot=0\\n' >/etc/mfs/mfsexports.cfg`,
      'install -o mfs -g mfs -m 0644 /var/lib/mfs/metadata.mfs.empty /var/lib/mfs/metadata.mfs',
      'systemctl start moosefs-master moosefs-cgiserv',
    ].join(' && '),
  );
  for (const node of lab.topology.nodes) {
    lab.ssh(
      node.ip,
      [
        'mkfs.xfs -q -L cias-data /dev/sdb',
        'install -d /data/sdb',
        'mount /dev/sdb /data/sdb',
        'install -d -o mfs -g mfs /data/sdb/chunks',
        `printf 'MASTER_HOST = ${VIP}\\nBIND_HOST = ${node.ip}\\n' >/etc/mfs/mfschunkserver.cfg`,
        `printf '/data/sdb/chunks\\n' >/etc/mfs/mfshdd.cfg`,
        `printf 'MASTER_HOST = ${VIP}\\nBIND_HOST = ${node.ip}\\n' >/etc/mfs/mfsmetalogger.cfg`,
        'systemctl start moosefs-chunkserver moosefs-metalogger',
        'mkdir -p /mnt/mfs',
        `echo '${VIP}:9421:/ /mnt/mfs moosefs defaults,_netdev,mfsdelayedinit 0 0' >>/etc/fstab`,
        'systemctl start mnt-mfs.mount',
      ].join(' && '),
    );
  }
  const { value: report } = await waitFor(
    'a passing lab check',
    async () => {
      const attempt = await checkLab(lab.state(), { timeoutMs: 3_000 });
      return attempt.ok ? attempt : undefined;
    },
    30_000,
    500,
  );
  expect(report.master).toBe(master);
  expect(formatCheckReport(report)).not.toContain('FAIL');
  // Data written on one node is read back on another.
  const [writer, reader] = lab.topology.nodes.filter((node) => node.name !== master);
  const written = lab.ssh(writer.ip, 'head -c 3000000 /dev/urandom >/mnt/mfs/probe && md5sum </mnt/mfs/probe').stdout;
  expect(lab.ssh(reader.ip, 'md5sum </mnt/mfs/probe').stdout).toBe(written);
});

test('a master crash (keepalived killed, links down) moves the VIPs to the other strong node; the old master returns as backup', async () => {
  const successor = STRONG.find((name) => name !== master) as string;
  const crashed = lab.plan(master);
  expect(signalNodeProcesses(lab.node(master), 'keepalived', 'SIGKILL').length).toBeGreaterThan(0);
  run('ip', ['-n', crashed.namespace, 'link', 'set', crashed.lan.name, 'down']);
  const { elapsedMs } = await waitFor('the VIP on the successor', () => (vipHolders().join() === successor ? true : undefined), 15_000, 50);
  expect(elapsedMs).toBeLessThan(10_000);
  expect(addressHolders(lab.topology, MASTER_EXT_IP)).toEqual([successor]);
  expect(vipHolders()).not.toContain(WEAK);

  // The old master powers off through the shim inside it (units stopped, links down) ...
  lab.exec(master, ['sh', '-c', 'mkdir -p /etc/cias && echo kept >/etc/cias/power-cycle && echo gone >/tmp/power-cycle']);
  const oldInit = lab.node(master).init;
  lab.exec(master, ['poweroff']);
  await waitFor('the old master to power off', () => (running(oldInit?.pid as number) ? undefined : true), 30_000);
  expect(run('ip', ['-n', crashed.namespace, '-o', 'link', 'show', 'up']).stdout).not.toContain(crashed.lan.name);
  expect(labStatus(paths).nodes.find((node) => node.name === master)?.power).toBe('off');
  expect(readShimCalls(paths)).toContainEqual(expect.objectContaining({ node: master, cmd: 'poweroff', argv: [] }));

  // ... and on again with its addresses as planned: the enabled keepalived starts at boot and, with
  // nopreempt, stays backup. Files survive; /tmp starts empty.
  await powerOnNode(paths, crashed, lab.topology.wanGateway);
  await waitFor('keepalived on the rebooted node', () => (nodeProcessesNamed(lab.node(master), 'keepalived').length > 0 ? true : undefined), 10_000);
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  expect(vipHolders()).toEqual([successor]);
  expect(lab.readFile(master, '/etc/cias/power-cycle')).toBe('kept\n');
  expect(lab.readFile(master, '/tmp/power-cycle')).toBeUndefined();
  expect(lab.ssh(master, 'hostname').stdout).toBe(`${master}\n`);
  master = successor;
});

test('terraform provisions a node over SSH (remote-exec finds the shims) and then plans no changes', async () => {
  const target = lab.plan(WEAK);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cias-lab-terraform-'));
  try {
    const hostKey = (lab.readFile(WEAK, '/etc/ssh/ssh_host_ed25519_key.pub') as string).trim().split(' ').slice(0, 2).join(' ');
    const stack = {
      resource: {
        terraform_data: {
          [`push_${WEAK.replace(/-/g, '_')}`]: {
            triggers_replace: ['cias-lab-test-v1'],
            connection: { type: 'ssh', host: target.ip, user: 'root', private_key: `\${file("${paths.operatorKey}")}`, host_key: hostKey },
            provisioner: [
              { 'remote-exec': { inline: ['set -eu', 'systemctl is-active ssh', 'mkdir -p /etc/cias', 'hostname >/etc/cias/terraform-proof'] } },
            ],
          },
        },
      },
    };
    fs.writeFileSync(path.join(workDir, 'main.tf.json'), JSON.stringify(stack, null, 2));
    const options = { workDir };
    await terraformInit(options);
    await terraformApply(options);
    expect(lab.readFile(WEAK, '/etc/cias/terraform-proof')).toBe(`${WEAK}\n`);
    expect(readShimCalls(paths)).toContainEqual(expect.objectContaining({ node: WEAK, cmd: 'systemctl', argv: ['is-active', 'ssh'] }));
    expect(await terraformPlanIsEmpty(options)).toBe(true);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
});

test('cron in each node runs that node\'s /etc/cron.d jobs with the shim environment', async () => {
  // Jobs run at the start of a minute. Counting from the install (not from the suite's start, which is
  // before a lab up that takes 10-60 s under load), two minute boundaries allow for cron waking late.
  const deadline = Math.max(5_000, 125_000 - (Date.now() - cronInstalledAt));
  const nodes = lab.topology.nodes;
  await waitFor('cron jobs', () => (nodes.every((node) => lab.readFile(node.name, '/root/cron-proof') === 'active\n') ? true : undefined), deadline, 500);
  for (const node of nodes) {
    expect(readShimCalls(paths)).toContainEqual(expect.objectContaining({ node: node.name, cmd: 'systemctl', argv: ['is-active', 'cron'], cwd: '/root' }));
  }
  expect(formatLabStatus(labStatus(paths))).toContain('cron');
}, 150_000);

test('lab down removes every namespace, process, link and file it made, and is idempotent', async () => {
  const state = readState(paths);
  const pids = Object.values(state?.nodes ?? {}).flatMap((node) => [node.init?.pid, node.holder?.pid]).filter((pid): pid is number => !!pid);
  const nodeProcessPids = lab.topology.nodes.flatMap((node) => nodeProcessesNamed(lab.node(node.name), 'sshd').map((p) => p.pid));
  const report = await labDown();
  expect([...report.removedNamespaces].sort()).toEqual(
    ['cias-lab-switch', 'cias-lab-uplink', ...lab.topology.nodes.map((node) => node.namespace)].sort(),
  );
  expect(run('ip', ['netns', 'list']).stdout).not.toContain('cias-lab-');
  for (const pid of [...pids, ...nodeProcessPids]) expect(running(pid)).toBe(false);
  expect(run('ip', ['link', 'show', 'cias-lab0'], { allowFailure: true }).status).not.toBe(0);
  expect(run('ip', ['-4', 'route', 'show']).stdout).not.toContain('10.254.0.0/16');
  expect(fs.existsSync(paths.stateFile)).toBe(false);
  expect(fs.existsSync(paths.dataDir)).toBe(false);
  const processes = run('ps', ['-eo', 'args']).stdout;
  expect(processes).not.toContain('node-init.sh');
  expect(report.detachedDisks).toHaveLength(lab.topology.nodes.length);
  expect(run('losetup', ['--list', '--output', 'BACK-FILE']).stdout).not.toContain(paths.dataDir);
  expect(await labDown()).toEqual({ killedPids: [], removedNamespaces: [], removedLinks: [], detachedDisks: [], removedData: false });
});
