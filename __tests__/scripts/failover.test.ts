/**
 * keepalived_to_master.sh (scenario 3) against the Proxmox shims, with fake mfsmaster/systemctl.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callsTo, ScriptWorld } from './harness';
import { buildCluster, PVE1, PVE2, PVE3, PVE4, vmConfig, writeMfsConfigs } from './cluster-fixture';

const FAILOVER = 'keepalived_to_master.sh';

describe('keepalived_to_master.sh', () => {
  let world: ScriptWorld;
  let mfs: { masterDir: string; metaloggerDir: string };

  beforeEach(() => {
    world = new ScriptWorld('failover');
    buildCluster(world);
    mfs = writeMfsConfigs(world, PVE2.name);
    // pve1 is the master: gateway (local disk), 101 on shared MooseFS storage, 102 stopped.
    world.admin('vm', PVE1.name, '100', '--name', 'gateway', '--memory-mb', '2048', '--onboot', '1', '--status', 'running');
    world.admin('vm', PVE1.name, '101', '--memory-mb', '4096', '--onboot', '1', '--status', 'running', '--disk', 'a_mfs:101/vm-101-disk-0.qcow2');
    // pve1 died in the middle of backing 101 up: the config keeps the lock.
    appendFileSync(join(world.shimState, 'cluster', 'nodes', PVE1.name, 'qemu-server', '101.conf'), 'lock: backup\n');
    world.admin('vm', PVE1.name, '102', '--memory-mb', '512', '--onboot', '0', '--status', 'stopped');
    world.admin('vm', PVE1.name, '104', '--memory-mb', '1024', '--onboot', '1', '--status', 'stopped');
    world.admin('vm', PVE3.name, '103', '--memory-mb', '12000', '--onboot', '1', '--status', 'running');
    world.writeDump(100, '2026_11_16-02_00_01', vmConfig({ name: 'gateway-from-mfs', memory: 2048, onboot: 1 }));
    writeFileSync(world.localGatewayDump(PVE2.name), vmConfig({ name: 'gateway-local-copy', memory: 2048, onboot: 1, scsi0: 'local:100/vm-100-disk-0.raw,size=4G' }));
    world.writeDump(102, '2026_11_15-02_00_07', vmConfig({ name: 'vm-102-backup', memory: 512, onboot: 0, scsi0: 'local:102/vm-102-disk-0.qcow2,size=4G' }));
    world.writeDump(104, '2026_11_08-02_00_09', vmConfig({ name: 'vm-104-old', memory: 1024, onboot: 1 }));
    world.writeDump(104, '2026_11_15-02_00_09', vmConfig({ name: 'vm-104-newest', memory: 1024, onboot: 1 }));
    writeFileSync(join(world.mfsContent, 'dump', 'vzdump-qemu-104-2026_11_15-02_00_09.log'), 'task log\n');

    const exported = world.run(PVE1.name, 'cias-export-vmids.sh', [], { master: true, mfsMounted: true });
    expect(exported.status).toBe(0);
    // 104 disappears from the cluster after the export: it is "gone", only a backup remains.
    world.pveOk(PVE1.name, ['qm', 'destroy', '104']);
    world.admin('node', PVE1.name, '--online', '0');
    world.clearCalls();
  });
  afterEach(() => world.cleanup());

  it('restores MooseFS, then recovers every VM of the dead master onto the right node', () => {
    const result = world.run(PVE2.name, FAILOVER, [], { master: true, mfsMounted: true, addresses: [PVE3.ip, PVE4.ip] });
    expect(result.stderr).toContain('failover done');
    expect(result.status).toBe(0);

    // MooseFS: metalogger files copied into the master's DATA_PATH, restore without start, systemd starts.
    expect(readFileSync(join(mfs.masterDir, 'metadata_ml.mfs.back'), 'utf8')).toBe('metadata from the metalogger\n');
    expect(existsSync(join(mfs.masterDir, 'changelog_ml.0.mfs'))).toBe(true);
    const fakes = world.fakeCalls();
    expect(callsTo(fakes, 'mfsmaster')).toContainEqual(['-a', '-c', join(world.nodeDir(PVE2.name), 'mfsmaster.cfg'), 'restore']);
    expect(callsTo(fakes, 'mfsmetarestore')).toEqual([]);
    const systemctl = callsTo(fakes, 'systemctl');
    expect(systemctl).toContainEqual(['start', 'moosefs-master']);
    expect(systemctl).toContainEqual(['start', 'moosefs-cgiserv']);
    const restoreAt = fakes.findIndex((c) => c.cmd === 'mfsmaster' && c.argv.includes('restore'));
    const startAt = fakes.findIndex((c) => c.cmd === 'systemctl' && c.argv.join(' ') === 'start moosefs-master');
    expect(restoreAt).toBeLessThan(startAt);

    // Gateway: config taken over from the dead node (SPEC §8), restored from the LOCAL copy, started here.
    const calls = world.shimCalls();
    expect(callsTo(calls, 'qmrestore', PVE2.name)).toEqual([[world.localGatewayDump(PVE2.name), '100', '--storage', 'a_mfs', '--force', '1']]);
    expect(world.vm(100)).toEqual({ node: PVE2.name, status: 'running' });
    expect(world.vmConf(PVE2.name, 100)).toContain('name: gateway-local-copy');
    expect(world.vmConf(PVE1.name, 100)).toBeUndefined();

    // 101 has its disk on shared storage: adopted by the least-loaded node (pve4, 7168 MB free), not restored.
    expect(world.vm(101)).toEqual({ node: PVE4.name, status: 'running' });
    expect(world.vmConf(PVE4.name, 101)).not.toContain('lock:');
    expect(world.log(PVE2.name)).toContain("VM 101: clearing the stale lock 'backup' left by pve1");
    const restores = callsTo(calls, 'pvesh').filter((argv) => argv[0] === 'create' && /^\/nodes\/[^/]+\/qemu$/.test(argv[1]));
    expect(restores.map((argv) => argv[argv.indexOf('--vmid') + 1])).toEqual(['102', '104']);

    // 102: restored from MooseFS on the then least-loaded node (pve3: 3360 MB vs pve4: 3072 MB), onboot 0 → not started.
    expect(restores[0]).toEqual(['create', `/nodes/${PVE3.name}/qemu`, '--vmid', '102', '--archive', 'mfs-backup:backup/vzdump-qemu-102-2026_11_15-02_00_07.vma', '--storage', 'a_mfs', '--force', '1']);
    expect(world.vm(102)).toEqual({ node: PVE3.name, status: 'stopped' });

    // 104 was gone: restored from its NEWEST dump, started (onboot 1).
    expect(restores[1]).toContain('mfs-backup:backup/vzdump-qemu-104-2026_11_15-02_00_09.vma');
    expect(world.vm(104)).toEqual({ node: PVE3.name, status: 'running' });
    expect(world.vmConf(PVE3.name, 104)).toContain('name: vm-104-newest');

    // 103 runs on a live node: untouched.
    expect(world.vm(103)).toEqual({ node: PVE3.name, status: 'running' });
    expect(calls.some((c) => c.argv.some((a) => a.includes('/103/')))).toBe(false);

    // Never a restore onto the master other than the gateway, never onto the dead node.
    expect(restores.some((argv) => argv[1].includes(PVE2.name) || argv[1].includes(PVE1.name))).toBe(false);

    expect(world.log(PVE2.name)).toMatch(/notice: \[cias DLLL-CIAS\] failover to pve2 done/);
    expect(readFileSync(join(world.nodeDir(PVE2.name), 'var', 'failover.last'), 'utf8')).toMatch(/^\d+ 0\n$/);
  });

  it('logs through syslog with the tag cias', () => {
    world.run(PVE2.name, FAILOVER, [], { master: true, mfsMounted: true });
    const logger = callsTo(world.fakeCalls(), 'logger');
    expect(logger.length).toBeGreaterThan(0);
    for (const argv of logger) expect(argv.slice(0, 2)).toEqual(['-t', 'cias']);
  });

  it('refuses on a node that may never be master, touching nothing', () => {
    const weak = { name: 'pve5', ip: '10.254.1.5', canBeMaster: false };
    world.addNode(weak);
    world.clearCalls();
    const result = world.run(weak.name, FAILOVER, [], { master: true, mfsMounted: true });
    expect(result.status).toBe(4);
    expect(result.stderr).toContain('may never be master (CIAS_CAN_BE_MASTER=0)');
    expect(world.shimCalls()).toEqual([]);
    expect(world.fakeCalls().filter((c) => c.cmd !== 'logger')).toEqual([]);
    expect(world.vm(100)?.node).toBe(PVE1.name);
  });

  it('refuses on a node that does not hold the VIP', () => {
    const result = world.run(PVE2.name, FAILOVER, [], { master: false, mfsMounted: true });
    expect(result.status).toBe(4);
    expect(result.stderr).toContain('10.254.0.254 is not on a local interface');
    expect(world.shimCalls()).toEqual([]);
    expect(callsTo(world.fakeCalls(), 'mfsmaster')).toEqual([]);
  });

  it('without quorum restores MooseFS but moves no VM, and says so (exit 6)', () => {
    world.admin('node', PVE3.name, '--online', '0');
    world.admin('node', PVE4.name, '--online', '0');
    world.clearCalls();
    const result = world.run(PVE2.name, FAILOVER, [], { master: true, mfsMounted: true });
    expect(result.status).toBe(6);
    expect(result.stderr).toContain('not quorate');
    expect(callsTo(world.fakeCalls(), 'systemctl')).toContainEqual(['start', 'moosefs-master']);
    expect(callsTo(world.shimCalls(), 'qmrestore')).toEqual([]);
    expect(callsTo(world.shimCalls(), 'pvesh').filter((argv) => argv[0] === 'create')).toEqual([]);
    expect(world.vm(100)?.node).toBe(PVE1.name);
    expect(world.log(PVE2.name)).toContain('failover to pve2 incomplete');
  });

  it('a second run restores nothing again (idempotent)', () => {
    expect(world.run(PVE2.name, FAILOVER, [], { master: true, mfsMounted: true }).status).toBe(0);
    world.clearCalls();
    const again = world.run(PVE2.name, FAILOVER, [], { master: true, mfsMounted: true });
    expect(again.status).toBe(0);
    const calls = world.shimCalls();
    expect(callsTo(calls, 'qmrestore')).toEqual([]);
    expect(callsTo(calls, 'pvesh').filter((argv) => argv[0] === 'create')).toEqual([]);
    expect(world.vm(100)).toEqual({ node: PVE2.name, status: 'running' });
  });

  it('refuses to start an empty MooseFS master when there is no metadata at all', () => {
    world.addNode({ name: 'pve6', ip: '10.254.1.6', canBeMaster: true });
    writeFileSync(join(world.nodeDir('pve6'), 'mfsmaster.cfg'), `DATA_PATH = ${join(world.nodeDir('pve6'), 'empty')}\n`);
    writeFileSync(join(world.nodeDir('pve6'), 'mfsmetalogger.cfg'), `DATA_PATH = ${join(world.nodeDir('pve6'), 'empty')}\n`);
    world.clearCalls();
    const result = world.run('pve6', FAILOVER, [], { master: true });
    expect(result.stderr).toContain('refusing to start an empty MooseFS master');
    expect(callsTo(world.fakeCalls(), 'systemctl')).not.toContainEqual(['start', 'moosefs-master']);
    expect(result.status).toBe(6);
  });
});

describe('keepalived_to_master.sh with the old master alive (manual switch)', () => {
  let world: ScriptWorld;
  beforeEach(() => {
    world = new ScriptWorld('switchover');
    buildCluster(world);
    writeMfsConfigs(world, PVE2.name);
    world.admin('vm', PVE1.name, '100', '--name', 'gateway', '--memory-mb', '2048', '--onboot', '1', '--status', 'running');
    world.admin('vm', PVE1.name, '101', '--memory-mb', '1024', '--onboot', '1', '--status', 'running');
    expect(world.run(PVE1.name, 'cias-export-vmids.sh', [], { master: true, mfsMounted: true }).status).toBe(0);
    world.clearCalls();
  });
  afterEach(() => world.cleanup());

  it('live-migrates the gateway here through the source node and leaves the other VMs alone', () => {
    const result = world.run(PVE2.name, FAILOVER, [], { master: true, mfsMounted: true });
    expect(result.status).toBe(0);
    const calls = world.shimCalls();
    expect(callsTo(calls, 'pvesh').filter((argv) => argv[0] === 'create')).toEqual([
      ['create', `/nodes/${PVE1.name}/qemu/100/migrate`, '--target', PVE2.name, '--online', '1'],
    ]);
    expect(callsTo(calls, 'qmrestore')).toEqual([]);
    expect(world.vm(100)).toEqual({ node: PVE2.name, status: 'running' });
    expect(world.vm(101)).toEqual({ node: PVE1.name, status: 'running' });
  });

  it('stops an mfsmaster that was already running here before restoring', () => {
    const result = world.run(PVE2.name, FAILOVER, [], { master: true, mfsMounted: true, env: { FAKE_ACTIVE_UNITS: 'systemd-logind keepalived moosefs-master' } });
    expect(result.status).toBe(0);
    const fakes = world.fakeCalls().filter((c) => c.cmd === 'systemctl' || c.cmd === 'mfsmaster').map((c) => `${c.cmd} ${c.argv.join(' ')}`);
    const stop = fakes.indexOf('systemctl stop moosefs-master');
    const restore = fakes.findIndex((line) => line.startsWith('mfsmaster -a -c') && line.endsWith('restore'));
    const start = fakes.indexOf('systemctl start moosefs-master');
    expect(stop).toBeGreaterThanOrEqual(0);
    expect(stop).toBeLessThan(restore);
    expect(restore).toBeLessThan(start);
  });
});
