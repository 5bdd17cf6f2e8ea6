/**
 * The cron jobs: cias-export-vmids, cias-gateway-backup-copy and cias-uplink-watchdog, run for real.
 * Pings stay inside the test's own network namespace: 127.0.0.1 answers, 192.0.2.1 (TEST-NET-1)
 * has no route there, so nothing ever leaves the machine.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { callsTo, ScriptWorld } from './harness';
import { buildCluster, PVE1, PVE2 } from './cluster-fixture';

describe('cias-export-vmids', () => {
  let world: ScriptWorld;
  beforeEach(() => {
    world = new ScriptWorld('export');
    buildCluster(world);
    world.admin('vm', PVE1.name, '100', '--onboot', '1', '--status', 'running');
    world.admin('vm', PVE2.name, '10501', '--onboot', '0', '--status', 'stopped');
    world.admin('vm', PVE2.name, '101', '--onboot', '1', '--status', 'running');
    world.clearCalls();
  });
  afterEach(() => world.cleanup());

  const exported = () => join(world.mfsContent, 'cias', 'pve_master_vmid.conf');

  it('writes every VM, sorted by VMID, with node, status and onboot', () => {
    const result = world.run(PVE1.name, 'cias-export-vmids.sh', [], { master: true, mfsMounted: true });
    expect(result.status).toBe(0);
    const lines = readFileSync(exported(), 'utf8').split('\n');
    expect(lines[0]).toBe('# cias pve_master_vmid v1');
    expect(lines[1]).toMatch(/^# exported-by pve1 \d+ \d{4}-\d\d-\d\dT/);
    expect(lines.filter((line) => line !== '' && !line.startsWith('#'))).toEqual(['100 pve1 running 1', '101 pve2 running 1', '10501 pve2 stopped 0']);
    expect(result.stderr).toContain('exported 3 VM(s)');
  });

  it('does nothing on a node without the VIP', () => {
    const result = world.run(PVE2.name, 'cias-export-vmids.sh', [], { mfsMounted: true });
    expect(result.status).toBe(0);
    expect(existsSync(exported())).toBe(false);
    expect(world.shimCalls()).toEqual([]);
  });

  it('refuses to write when MooseFS is not mounted', () => {
    const result = world.run(PVE1.name, 'cias-export-vmids.sh', [], { master: true, mfsMounted: false });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('is not mounted');
    expect(existsSync(join(world.mfsMount(), 'cias', 'pve_master_vmid.conf'))).toBe(false);
  });
});

describe('cias-gateway-backup-copy', () => {
  let world: ScriptWorld;
  beforeEach(() => {
    world = new ScriptWorld('gwcopy');
    world.addNode(PVE1);
  });
  afterEach(() => world.cleanup());

  const local = () => world.localGatewayDump(PVE1.name);

  it('copies the newest gateway dump, ignoring side files and other VMs, and skips an unchanged one', () => {
    world.writeDump(100, '2026_11_09-02_00_01', 'older gateway image\n');
    world.writeDump(100, '2026_11_16-02_00_01', 'newest gateway image\n');
    world.writeDump(101, '2026_11_23-02_00_01', 'another VM\n');
    writeFileSync(join(world.mfsContent, 'dump', 'vzdump-qemu-100-2026_11_23-02_00_01.log'), 'a task log, newer but no archive\n');
    const first = world.run(PVE1.name, 'cias-gateway-backup-copy.sh', [], { mfsMounted: true });
    expect(first.status).toBe(0);
    expect(readFileSync(local(), 'utf8')).toBe('newest gateway image\n');
    expect(statSync(local()).mode & 0o777).toBe(0o600);

    const again = world.run(PVE1.name, 'cias-gateway-backup-copy.sh', [], { mfsMounted: true });
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('is already a copy of vzdump-qemu-100-2026_11_16-02_00_01.vma');

    world.writeDump(100, '2026_11_23-02_00_01', 'next week\n');
    expect(world.run(PVE1.name, 'cias-gateway-backup-copy.sh', [], { mfsMounted: true }).status).toBe(0);
    expect(readFileSync(local(), 'utf8')).toBe('next week\n');
  });

  it('decompresses a gzip dump into the .vma copy', () => {
    writeFileSync(join(world.mfsContent, 'dump', 'vzdump-qemu-100-2026_11_16-02_00_01.vma.gz'), gzipSync('compressed gateway image\n'));
    const result = world.run(PVE1.name, 'cias-gateway-backup-copy.sh', [], { mfsMounted: true });
    expect(result.status).toBe(0);
    expect(readFileSync(local(), 'utf8')).toBe('compressed gateway image\n');
  });

  it('fails clearly, keeping the old copy, when there is no dump', () => {
    writeFileSync(local(), 'last known good\n');
    const result = world.run(PVE1.name, 'cias-gateway-backup-copy.sh', [], { mfsMounted: true });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('no gateway dump');
    expect(readFileSync(local(), 'utf8')).toBe('last known good\n');
  });
});

describe('cias-uplink-watchdog', () => {
  let world: ScriptWorld;
  beforeEach(() => {
    world = new ScriptWorld('watchdog');
    world.addNode(PVE1);
  });
  afterEach(() => world.cleanup());

  const runWith = (probe: string, env: Record<string, string> = {}) => {
    world.addNode(PVE1, { uplinkProbe: probe, shutdownDelayMinutes: 15 });
    return world.run(PVE1.name, 'cias-uplink-watchdog.sh', [], { env });
  };
  const shutdowns = () => callsTo(world.fakeCalls(), 'shutdown');
  const scheduleFile = () => join(world.nodeDir(PVE1.name), 'run', 'shutdown-scheduled');

  it('schedules one shutdown when the probe is unreachable, and does not push it back on later runs', () => {
    const first = runWith('192.0.2.1');
    expect(first.status).toBe(0);
    expect(shutdowns()).toEqual([['-h', '+15', 'cias: uplink probe 192.0.2.1 unreachable']]);
    expect(existsSync(scheduleFile())).toBe(true);

    for (let i = 0; i < 2; i++) {
      const later = runWith('192.0.2.1');
      expect(later.status).toBe(0);
      expect(later.stderr).toContain('shutdown already scheduled');
    }
    expect(shutdowns()).toHaveLength(1);
  });

  it('cancels its shutdown when the probe answers again, and only then', () => {
    expect(runWith('192.0.2.1').status).toBe(0);
    const back = runWith('127.0.0.1');
    expect(back.status).toBe(0);
    expect(shutdowns()).toEqual([
      ['-h', '+15', 'cias: uplink probe 192.0.2.1 unreachable'],
      ['-c', 'cias: uplink back, shutdown cancelled'],
    ]);
    expect(existsSync(scheduleFile())).toBe(false);
    expect(existsSync(join(world.nodeDir(PVE1.name), 'var', 'uplink-watchdog.scheduled'))).toBe(false);

    expect(runWith('127.0.0.1').status).toBe(0);
    expect(shutdowns()).toHaveLength(2);
  });

  it('schedules again after a reboot (a new boot id) even though its old marker is still there', () => {
    const bootId = join(world.dir, 'boot_id');
    writeFileSync(bootId, 'boot-one\n');
    expect(runWith('192.0.2.1', { CIAS_BOOT_ID_FILE: bootId }).status).toBe(0);
    // The reboot gives a new boot id and empties /run, where logind kept the schedule.
    writeFileSync(bootId, 'boot-two\n');
    rmSync(scheduleFile());
    const afterReboot = runWith('192.0.2.1', { CIAS_BOOT_ID_FILE: bootId });
    expect(afterReboot.status).toBe(0);
    expect(shutdowns()).toHaveLength(2);
  });

  it('leaves a shutdown scheduled by someone else alone', () => {
    mkdirSync(dirname(scheduleFile()), { recursive: true });
    writeFileSync(scheduleFile(), 'MODE=reboot\n');
    const result = runWith('192.0.2.1');
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('scheduled by someone else');
    expect(shutdowns()).toEqual([]);
    expect(runWith('127.0.0.1').status).toBe(0);
    expect(shutdowns()).toEqual([]);
  });

  it('refuses to schedule when systemd-logind is not running (shutdown +N would power off at once)', () => {
    const result = runWith('192.0.2.1', { FAKE_ACTIVE_UNITS: 'keepalived' });
    expect(result.status).toBe(4);
    expect(result.stderr).toContain('systemd-logind is not running');
    expect(shutdowns()).toEqual([]);
  });
});
