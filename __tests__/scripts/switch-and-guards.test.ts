/**
 * dlll_cias-switch_to_master.sh (scenario 4), and the guards every script shares: not a Proxmox VE
 * node (exit 3), lock held (exit 5), --help, notifications.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callsTo, sandbox, ScriptWorld, SCRIPTS_DIR, VIP } from './harness';
import { buildCluster, PVE1, PVE2, PVE4, writeMfsConfigs } from './cluster-fixture';

const NORMAL_CONF = 'vrrp_instance VI_CIAS {\n    state BACKUP\n    priority 150\n    nopreempt\n}\n';
const FORCE_CONF = 'vrrp_instance VI_CIAS {\n    state BACKUP\n    priority 254\n}\n';

describe('dlll_cias-switch_to_master.sh', () => {
  let world: ScriptWorld;
  let keepalivedDir: string;

  beforeEach(() => {
    world = new ScriptWorld('switch');
    buildCluster(world);
    writeMfsConfigs(world, PVE2.name);
    world.admin('vm', PVE1.name, '100', '--name', 'gateway', '--memory-mb', '2048', '--onboot', '1', '--status', 'running');
    keepalivedDir = join(world.nodeDir(PVE2.name), 'keepalived');
    mkdirSync(keepalivedDir);
    writeFileSync(join(keepalivedDir, 'keepalived.conf'), NORMAL_CONF);
    writeFileSync(join(keepalivedDir, 'keepalived-force-master.conf'), FORCE_CONF);
    world.clearCalls();
  });
  afterEach(() => world.cleanup());

  const switchEnv = (extra: Record<string, string> = {}) => ({
    CIAS_KEEPALIVED_DIR: keepalivedDir,
    CIAS_FAILOVER_SCRIPT: join(SCRIPTS_DIR, 'keepalived_to_master.sh'),
    CIAS_SWITCH_NOTIFY_GRACE_SEC: '1',
    CIAS_SWITCH_VIP_TIMEOUT_SEC: '5',
    FAKE_KEEPALIVED_VIP: VIP,
    FAKE_KEEPALIVED_CONF: join(keepalivedDir, 'keepalived.conf'),
    ...extra,
  });

  it('forces the election, runs the failover, and goes back to the normal file with a reload', () => {
    const result = world.run(PVE2.name, 'dlll_cias-switch_to_master.sh', [], { mfsMounted: true, env: switchEnv() });
    expect(result.stderr).toContain('switch done');
    expect(result.status).toBe(0);

    expect(readFileSync(join(keepalivedDir, 'keepalived.conf'), 'utf8')).toBe(NORMAL_CONF);
    expect(existsSync(join(keepalivedDir, 'keepalived.conf.cias-normal'))).toBe(false);
    const keepalived = callsTo(world.fakeCalls(), 'systemctl').filter((argv) => argv.includes('keepalived'));
    expect(keepalived.filter((argv) => argv[0] === 'reload')).toEqual([
      ['reload', 'keepalived'],
      ['reload', 'keepalived'],
    ]);
    expect(keepalived.some((argv) => argv[0] === 'restart' || argv[0] === 'stop')).toBe(false);
    // keepalived's notify_master is not emulated here, so the switch ran scenario 3 itself.
    expect(result.stderr).toContain('running it now');
    expect(world.vm(100)).toEqual({ node: PVE2.name, status: 'running' });
  });

  it('refuses on a node that may never be master, touching nothing', () => {
    const weak = { name: 'pve5', ip: '10.254.1.5', canBeMaster: false };
    world.addNode(weak);
    const result = world.run(weak.name, 'dlll_cias-switch_to_master.sh', [], { env: switchEnv() });
    expect(result.status).toBe(4);
    expect(result.stderr).toContain('may never be master');
    expect(callsTo(world.fakeCalls(), 'systemctl')).toEqual([]);
    expect(readFileSync(join(keepalivedDir, 'keepalived.conf'), 'utf8')).toBe(NORMAL_CONF);
  });

  it('puts the normal file back when the VIP never arrives', () => {
    writeFileSync(join(keepalivedDir, 'keepalived-force-master.conf'), 'vrrp_instance VI_CIAS {\n    priority 200\n}\n');
    const result = world.run(PVE2.name, 'dlll_cias-switch_to_master.sh', [], { env: switchEnv({ CIAS_SWITCH_VIP_TIMEOUT_SEC: '2' }) });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('did not come here within 2s');
    expect(readFileSync(join(keepalivedDir, 'keepalived.conf'), 'utf8')).toBe(NORMAL_CONF);
    expect(existsSync(join(keepalivedDir, 'keepalived.conf.cias-normal'))).toBe(false);
    expect(callsTo(world.fakeCalls(), 'systemctl').filter((argv) => argv[0] === 'reload')).toHaveLength(2);
    expect(world.vm(100)?.node).toBe(PVE1.name);
  });

  it('refuses without a force-master file (exit 7)', () => {
    writeFileSync(join(keepalivedDir, 'keepalived-force-master.conf'), '');
    const result = world.run(PVE2.name, 'dlll_cias-switch_to_master.sh', [], { env: switchEnv() });
    expect(result.status).toBe(7);
    expect(callsTo(world.fakeCalls(), 'systemctl')).toEqual([]);
  });
});

describe('every script on a host that is not a Proxmox VE node', () => {
  let world: ScriptWorld;
  beforeAll(() => {
    world = new ScriptWorld('notpve');
    world.addNode(PVE1);
    world.addNode(PVE4);
  });
  afterAll(() => world.cleanup());

  it.each([
    ['cias-bootstrap-cluster.sh', [], false],
    ['cias-join-cluster.sh', [], false],
    ['keepalived_to_master.sh', [], true],
    ['cias-delete-node.sh', ['pve4'], true],
    ['cias-node-leave.sh', [], false],
    ['cias-export-vmids.sh', [], true],
    ['cias-liveness.sh', [], true],
  ] as const)('%s exits 3 and says so', (script, args, master) => {
    const result = world.run(PVE1.name, script, [...args], { withoutShims: true, master });
    expect(result.stderr).toMatch(/this is not a Proxmox VE node: .*(pvecm|pvesh).* not found/);
    expect(result.status).toBe(3);
  });
});

describe('shared guards', () => {
  let world: ScriptWorld;
  beforeAll(() => {
    world = new ScriptWorld('guards');
    world.addNode(PVE1);
  });
  afterAll(() => world.cleanup());

  it('a script whose lock is held elsewhere gives up with exit 5', () => {
    const lockDir = join(world.nodeDir(PVE1.name), 'lock');
    mkdirSync(lockDir, { recursive: true });
    const holder = spawnSync('bash', ['-c', `exec 8>>${lockDir}/cluster.lock; flock 8; CIAS_LOCK_WAIT_SEC=1 bash ${SCRIPTS_DIR}/cias-bootstrap-cluster.sh`], {
      encoding: 'utf8',
      env: world.env(PVE1.name),
    });
    expect(holder.status).toBe(5);
    expect(holder.stderr).toContain("holds the 'cluster' lock");
  });

  it('refuses to run without its configuration (exit 7)', () => {
    const result = sandbox(['bash', join(SCRIPTS_DIR, 'cias-liveness.sh')], { env: { ...world.env(PVE1.name), CIAS_CONF: join(world.dir, 'absent.conf') } });
    expect(result.status).toBe(7);
    expect(result.stderr).toContain('not set up as a cias node');
  });

  it('names the variables a configuration lacks', () => {
    const partial = join(world.dir, 'partial.conf');
    writeFileSync(partial, "CIAS_CLUSTER_NAME='DLLL-CIAS'\nCIAS_NODE_NAME='pve1'\n");
    const result = sandbox(['bash', join(SCRIPTS_DIR, 'cias-liveness.sh')], { env: { ...world.env(PVE1.name), CIAS_CONF: partial } });
    expect(result.status).toBe(7);
    expect(result.stderr).toContain('does not set: CIAS_DOMAIN CIAS_NODE_FQDN');
  });

  it('logs a notice without mailing it when no sendmail exists, and mails it through sendmail when one does', () => {
    const snippet = `source ${SCRIPTS_DIR}/common.sh; cias_load_config; CIAS_NOTIFY_EMAIL=ops@example.com; notify "test subject" "test body"`;
    const noSendmail = spawnSync('bash', ['-c', snippet], { encoding: 'utf8', env: { ...world.env(PVE1.name), CIAS_SENDMAIL: join(world.dir, 'no-such-sendmail') } });
    expect(noSendmail.status).toBe(0);
    expect(noSendmail.stderr).toContain('notice: [cias DLLL-CIAS] test subject (pve1): test body');
    expect(noSendmail.stderr).toContain('not mailed to ops@example.com: no sendmail binary');

    const withSendmail = spawnSync('bash', ['-c', snippet], { encoding: 'utf8', env: world.env(PVE1.name) });
    expect(withSendmail.status).toBe(0);
    const mail = readFileSync(join(world.nodeDir(PVE1.name), 'fake', 'mail'), 'utf8');
    expect(mail).toBe('To: ops@example.com\nSubject: [cias DLLL-CIAS] test subject (pve1)\nAuto-Submitted: auto-generated\n\ntest body\n');
    expect(callsTo(world.fakeCalls(), 'sendmail')).toEqual([['-t', '-oi']]);
  });
});
