/**
 * cias-bootstrap-cluster and cias-join-cluster against the Proxmox shims.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callsTo, ScriptWorld } from './harness';

const MASTER = { name: 'pve-a-1-1', ip: '10.254.1.1', canBeMaster: true };
const SECOND = { name: 'pve-a-1-2', ip: '10.254.1.2', canBeMaster: true };

describe('cias-bootstrap-cluster', () => {
  let world: ScriptWorld;
  beforeEach(() => {
    world = new ScriptWorld('bootstrap');
    world.addNode(MASTER);
  });
  afterEach(() => world.cleanup());

  it('creates the cluster, both storages and both backup jobs', () => {
    const result = world.run(MASTER.name, 'cias-bootstrap-cluster.sh', [], { master: true });
    expect(result.stderr).toContain('cluster DLLL-CIAS ready');
    expect(result.status).toBe(0);

    const calls = world.shimCalls();
    expect(callsTo(calls, 'pvecm')).toEqual([['create', 'DLLL-CIAS', '--link0', MASTER.ip]]);
    const storageAdds = callsTo(calls, 'pvesm').filter((argv) => argv[0] === 'add');
    expect(storageAdds).toEqual([
      ['add', 'dir', 'a_mfs', '--path', world.mfsMount(MASTER.name), '--content', 'images,iso,vztmpl,backup,snippets', '--shared', '1', '--is_mountpoint', 'yes', '--prune-backups', 'keep-last=1'],
      ['add', 'dir', 'mfs-backup', '--path', world.mfsMount(MASTER.name), '--content', 'backup', '--shared', '1', '--is_mountpoint', 'yes', '--prune-backups', 'keep-last=5'],
    ]);
    expect(storageAdds.flat()).not.toContain('--maxfiles');

    const jobs = JSON.parse(world.pveOk(MASTER.name, ['pvesh', 'get', '/cluster/backup', '--output-format', 'json'])) as Array<Record<string, unknown>>;
    const byId = Object.fromEntries(jobs.map((job) => [job.id, job]));
    expect(byId['cias-gateway']).toMatchObject({ vmid: '100', storage: 'mfs-backup', schedule: 'mon 02:00', mode: 'snapshot', compress: '0', enabled: 1 });
    expect(byId['cias-vms']).toMatchObject({ all: 1, exclude: '100', storage: 'a_mfs', schedule: 'sun 02:00', mode: 'snapshot', compress: 'gzip', enabled: 1 });
    expect(byId['cias-vms']).not.toHaveProperty('vmid');

    const status = world.pveOk(MASTER.name, ['pvecm', 'status']);
    expect(status).toMatch(/^Name:\s+DLLL-CIAS$/m);
    expect(status).toMatch(/^Quorate:\s+Yes$/m);
  });

  it('is idempotent: a second run creates nothing and leaves the configuration as it was', () => {
    expect(world.run(MASTER.name, 'cias-bootstrap-cluster.sh').status).toBe(0);
    const storageCfg = join(world.shimState, 'cluster', 'storage.cfg');
    const storage = readFileSync(storageCfg, 'utf8');
    const jobs = world.pveOk(MASTER.name, ['pvesh', 'get', '/cluster/backup', '--output-format', 'json']);
    world.clearCalls();

    const again = world.run(MASTER.name, 'cias-bootstrap-cluster.sh');
    expect(again.status).toBe(0);
    const calls = world.shimCalls();
    expect(callsTo(calls, 'pvecm')).toEqual([]);
    expect(callsTo(calls, 'pvesm').filter((argv) => argv[0] === 'add')).toEqual([]);
    expect(callsTo(calls, 'pvesh').filter((argv) => argv[0] === 'create')).toEqual([]);
    expect(readFileSync(storageCfg, 'utf8')).toBe(storage);
    expect(world.pveOk(MASTER.name, ['pvesh', 'get', '/cluster/backup', '--output-format', 'json'])).toBe(jobs);
  });

  it('takes the backup schedules as arguments and updates existing jobs with them', () => {
    expect(world.run(MASTER.name, 'cias-bootstrap-cluster.sh').status).toBe(0);
    const result = world.run(MASTER.name, 'cias-bootstrap-cluster.sh', ['--gateway-backup-schedule', 'tue 03:30', '--vm-backup-schedule', 'sat 01:00']);
    expect(result.status).toBe(0);
    const gateway = JSON.parse(world.pveOk(MASTER.name, ['pvesh', 'get', '/cluster/backup/cias-gateway', '--output-format', 'json']));
    const vms = JSON.parse(world.pveOk(MASTER.name, ['pvesh', 'get', '/cluster/backup/cias-vms', '--output-format', 'json']));
    expect(gateway.schedule).toBe('tue 03:30');
    expect(vms.schedule).toBe('sat 01:00');
  });

  it('refuses to touch a node that is in a cluster of another name', () => {
    world.pveOk(MASTER.name, ['pvecm', 'create', 'OTHER']);
    world.clearCalls();
    const result = world.run(MASTER.name, 'cias-bootstrap-cluster.sh');
    expect(result.status).toBe(4);
    expect(result.stderr).toContain("already in cluster 'OTHER'");
    expect(world.shimCalls().filter((c) => c.cmd !== 'pvecm')).toEqual([]);
  });

  it('refuses to repoint an existing storage, whose path Proxmox keeps fixed', () => {
    world.pveOk(MASTER.name, ['pvecm', 'create', 'DLLL-CIAS']);
    world.pveOk(MASTER.name, ['pvesm', 'add', 'dir', 'a_mfs', '--path', '/srv/elsewhere', '--content', 'images']);
    world.clearCalls();
    const result = world.run(MASTER.name, 'cias-bootstrap-cluster.sh');
    expect(result.status).toBe(4);
    expect(result.stderr).toContain("storage a_mfs exists with path '/srv/elsewhere'");
    expect(callsTo(world.shimCalls(), 'pvesm')).toEqual([]);
  });

  it('rejects an unknown argument with a usage error', () => {
    const result = world.run(MASTER.name, 'cias-bootstrap-cluster.sh', ['--frobnicate']);
    expect(result.status).toBe(2);
    expect(world.shimCalls()).toEqual([]);
  });
});

describe('cias-join-cluster', () => {
  let world: ScriptWorld;
  let passwordFile: string;
  beforeEach(() => {
    world = new ScriptWorld('join');
    world.addNode(MASTER);
    world.addNode(SECOND);
    passwordFile = join(world.dir, 'root-password');
    writeFileSync(passwordFile, 's3cret pass\n');
    chmodSync(passwordFile, 0o600);
    world.admin('node', MASTER.name, '--root-password-file', passwordFile);
    expect(world.run(MASTER.name, 'cias-bootstrap-cluster.sh').status).toBe(0);
    world.clearCalls();
  });
  afterEach(() => world.cleanup());

  it('refuses without a root password file, before calling pvecm add', () => {
    const result = world.run(SECOND.name, 'cias-join-cluster.sh');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no root password file');
    expect(callsTo(world.shimCalls(), 'pvecm')).toEqual([]);

    const missing = world.run(SECOND.name, 'cias-join-cluster.sh', ['--password-file', join(world.dir, 'absent')]);
    expect(missing.status).toBe(2);
    expect(callsTo(world.shimCalls(), 'pvecm')).toEqual([]);
  });

  it('joins through the master with the fetched fingerprint; the password never appears in argv', () => {
    const result = world.run(SECOND.name, 'cias-join-cluster.sh', [], {
      env: { CIAS_ROOT_PASSWORD_FILE: passwordFile, FAKE_SSH_VIP_NODE: MASTER.name },
    });
    expect(result.stderr).toContain('joined cluster DLLL-CIAS');
    expect(result.status).toBe(0);

    const fingerprint = world.admin('fingerprint', MASTER.name).trim();
    expect(callsTo(world.fakeCalls(), 'ssh')[0]).toEqual(
      expect.arrayContaining([`root@10.254.0.254`, 'pvesh', 'get', '/cluster/config/join']),
    );
    expect(callsTo(world.shimCalls(), 'pvecm', SECOND.name)).toEqual([['add', MASTER.ip, '--fingerprint', fingerprint, '--link0', SECOND.ip]]);
    const everyArgument = [...world.shimCalls(), ...world.fakeCalls()].flatMap((c) => c.argv).join(' ');
    expect(everyArgument).not.toContain('s3cret');
    expect(world.pveOk(MASTER.name, ['pvecm', 'nodes'])).toContain(SECOND.name);
  });

  it('uses --master and --fingerprint as given, without SSH', () => {
    const fingerprint = world.admin('fingerprint', MASTER.name).trim();
    const result = world.run(SECOND.name, 'cias-join-cluster.sh', ['--password-file', passwordFile, '--master', MASTER.ip, '--fingerprint', fingerprint]);
    expect(result.status).toBe(0);
    expect(callsTo(world.fakeCalls(), 'ssh')).toEqual([]);
    expect(callsTo(world.shimCalls(), 'pvecm')).toEqual([['add', MASTER.ip, '--fingerprint', fingerprint, '--link0', SECOND.ip]]);
  });

  it('is idempotent: a member does not join again', () => {
    const env = { CIAS_ROOT_PASSWORD_FILE: passwordFile, FAKE_SSH_VIP_NODE: MASTER.name };
    expect(world.run(SECOND.name, 'cias-join-cluster.sh', [], { env }).status).toBe(0);
    world.clearCalls();
    const again = world.run(SECOND.name, 'cias-join-cluster.sh', [], { env });
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('already a member of cluster DLLL-CIAS');
    expect(callsTo(world.shimCalls(), 'pvecm')).toEqual([]);
  });

  it('fails clearly when the master rejects the password', () => {
    const wrong = join(world.dir, 'wrong-password');
    writeFileSync(wrong, 'nope\n', { mode: 0o600 });
    const result = world.run(SECOND.name, 'cias-join-cluster.sh', ['--password-file', wrong], { env: { FAKE_SSH_VIP_NODE: MASTER.name } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Authentication failed');
    expect(world.pveOk(MASTER.name, ['pvecm', 'nodes'])).not.toContain(SECOND.name);
  });

  it('fails clearly when the master cannot be asked for the join information', () => {
    const result = world.run(SECOND.name, 'cias-join-cluster.sh', ['--password-file', passwordFile], { env: { FAKE_SSH_FAIL: '1' } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('cannot read the join information from root@10.254.0.254');
    expect(callsTo(world.shimCalls(), 'pvecm')).toEqual([]);
  });

  it('refuses to join a node that has guests', () => {
    world.admin('vm', SECOND.name, '150');
    const result = world.run(SECOND.name, 'cias-join-cluster.sh', ['--password-file', passwordFile], { env: { FAKE_SSH_VIP_NODE: MASTER.name } });
    expect(result.status).toBe(4);
    expect(result.stderr).toContain('this node has guests (150)');
    expect(callsTo(world.shimCalls(), 'pvecm')).toEqual([]);
  });
});
