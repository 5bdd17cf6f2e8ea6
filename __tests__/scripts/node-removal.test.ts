/**
 * cias-delete-node (scenario 6), cias-liveness (the master's 5-minute check) and cias-node-leave
 * (scenario 5) against the Proxmox shims.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callsTo, ScriptWorld, SCRIPTS_DIR, VIP } from './harness';
import { buildCluster, PVE1, PVE2, PVE3, PVE4, vmConfig } from './cluster-fixture';

describe('cias-delete-node', () => {
  let world: ScriptWorld;
  beforeEach(() => {
    world = new ScriptWorld('delete');
    buildCluster(world, { notifyEmail: 'ops@example.com' });
    // pve4 dies holding VM 105 (local disk, onboot 1) and VM 106 (shared disk, onboot 0).
    world.admin('vm', PVE4.name, '105', '--memory-mb', '1024', '--onboot', '1', '--status', 'running');
    world.admin('vm', PVE4.name, '106', '--memory-mb', '512', '--onboot', '0', '--status', 'running', '--disk', 'a_mfs:106/vm-106-disk-0.qcow2');
    world.writeDump(105, '2026_11_22-02_00_03', vmConfig({ name: 'vm-105-backup', memory: 1024, onboot: 1, scsi0: 'local:105/vm-105-disk-0.qcow2,size=4G' }));
    world.admin('node', PVE4.name, '--online', '0');
    world.clearCalls();
  });
  afterEach(() => world.cleanup());

  it('recovers the VMs of a silent node on the least-loaded non-master node, then runs pvecm delnode', () => {
    const result = world.run(PVE1.name, 'cias-delete-node.sh', [PVE4.name], { master: true, mfsMounted: true, addresses: [PVE2.ip, PVE3.ip] });
    expect(result.stderr).toContain('removing pve4 from the cluster');
    expect(result.status).toBe(0);

    const calls = world.shimCalls();
    expect(callsTo(calls, 'pvecm')).toContainEqual(['delnode', PVE4.name]);
    // Free RAM: pve2 7168 MB, pve3 15360 MB; pve1 is the master and never a target.
    expect(world.vm(105)).toEqual({ node: PVE3.name, status: 'running' });
    expect(world.vmConf(PVE3.name, 105)).toContain('name: vm-105-backup');
    // 106 lives on shared storage: adopted without a restore; onboot 0, so not started.
    expect(world.vm(106)).toEqual({ node: PVE3.name, status: 'stopped' });
    const restored = callsTo(calls, 'pvesh').filter((argv) => argv[0] === 'create' && argv[1].endsWith('/qemu'));
    expect(restored).toEqual([
      ['create', `/nodes/${PVE3.name}/qemu`, '--vmid', '105', '--archive', 'mfs-backup:backup/vzdump-qemu-105-2026_11_22-02_00_03.vma', '--storage', 'a_mfs', '--force', '1'],
    ]);
    expect(world.pveOk(PVE1.name, ['pvecm', 'nodes'])).not.toContain(PVE4.name);

    // The notice went to the (fake) sendmail: never a real mail.
    const mail = readFileSync(join(world.nodeDir(PVE1.name), 'fake', 'mail'), 'utf8');
    expect(mail).toContain('To: ops@example.com');
    expect(mail).toContain('Subject: [cias DLLL-CIAS] node pve4 deleted (pve1)');
  });

  it('is idempotent: a second run does not call delnode again', () => {
    const options = { master: true, mfsMounted: true } as const;
    expect(world.run(PVE1.name, 'cias-delete-node.sh', [PVE4.name], options).status).toBe(0);
    world.clearCalls();
    const again = world.run(PVE1.name, 'cias-delete-node.sh', [PVE4.name], options);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('pve4 is no longer a cluster member');
    expect(callsTo(world.shimCalls(), 'pvecm').filter((argv) => argv[0] === 'delnode')).toEqual([]);
  });

  it('asks a node that still answers to leave by itself (scenario 5) instead', () => {
    world.admin('node', PVE4.name, '--online', '1');
    const result = world.run(PVE1.name, 'cias-delete-node.sh', [PVE4.name], { master: true, addresses: [PVE4.ip] });
    expect(result.status).toBe(0);
    expect(callsTo(world.fakeCalls(), 'ssh')).toEqual([['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', `root@${PVE4.ip}`, '/usr/local/sbin/cias-node-leave']]);
    expect(callsTo(world.shimCalls(), 'pvecm').filter((argv) => argv[0] === 'delnode')).toEqual([]);
  });

  it('refuses off the master and refuses to delete itself', () => {
    const offMaster = world.run(PVE2.name, 'cias-delete-node.sh', [PVE4.name]);
    expect(offMaster.status).toBe(4);
    expect(offMaster.stderr).toContain('run cias-delete-node on the master');
    const itself = world.run(PVE1.name, 'cias-delete-node.sh', [PVE1.name], { master: true });
    expect(itself.status).toBe(4);
    expect(world.shimCalls().filter((c) => c.cmd === 'pvecm' && c.argv[0] === 'delnode')).toEqual([]);
  });

  it('rejects a malformed node name', () => {
    const result = world.run(PVE1.name, 'cias-delete-node.sh', ['pve4;reboot'], { master: true });
    expect(result.status).toBe(2);
    expect(world.shimCalls()).toEqual([]);
  });
});

describe('cias-liveness', () => {
  let world: ScriptWorld;
  let stamps: string;
  beforeEach(() => {
    world = new ScriptWorld('liveness');
    buildCluster(world);
    world.admin('node', PVE4.name, '--online', '0');
    stamps = join(world.nodeDir(PVE1.name), 'var', 'liveness');
    world.clearCalls();
  });
  afterEach(() => world.cleanup());

  const env = () => ({ CIAS_DELETE_NODE_SCRIPT: join(SCRIPTS_DIR, 'cias-delete-node.sh') });

  it('does nothing on a node without the VIP', () => {
    const result = world.run(PVE2.name, 'cias-liveness.sh', [], { env: env() });
    expect(result.status).toBe(0);
    expect(existsSync(join(world.nodeDir(PVE2.name), 'var', 'liveness'))).toBe(false);
    expect(world.shimCalls()).toEqual([]);
  });

  it('stamps the nodes that answer and starts counting for a silent node it has not seen', () => {
    const before = Math.floor(Date.now() / 1000);
    const result = world.run(PVE1.name, 'cias-liveness.sh', [], { master: true, addresses: [PVE2.ip, PVE3.ip], env: env() });
    expect(result.status).toBe(0);
    for (const node of [PVE2, PVE3, PVE4]) {
      expect(Number(readFileSync(join(stamps, `${node.name}.last-seen`), 'utf8'))).toBeGreaterThanOrEqual(before);
    }
    expect(existsSync(join(stamps, `${PVE1.name}.last-seen`))).toBe(false);
    expect(callsTo(world.shimCalls(), 'pvecm').filter((argv) => argv[0] === 'delnode')).toEqual([]);
  });

  it('runs scenario 6 once for a node silent for CIAS_DEAD_AFTER_MIN minutes', () => {
    mkdirSync(stamps, { recursive: true });
    writeFileSync(join(stamps, `${PVE4.name}.last-seen`), `${Math.floor(Date.now() / 1000) - 31 * 60}\n`);
    writeFileSync(join(stamps, `${PVE3.name}.last-seen`), `${Math.floor(Date.now() / 1000) - 29 * 60}\n`);
    const options = { master: true, mfsMounted: true, addresses: [PVE2.ip], env: env() } as const;
    const first = world.run(PVE1.name, 'cias-liveness.sh', [], options);
    expect(first.status).toBe(0);
    expect(callsTo(world.shimCalls(), 'pvecm').filter((argv) => argv[0] === 'delnode')).toEqual([['delnode', PVE4.name]]);
    expect(readFileSync(join(stamps, `${PVE4.name}.deleted`), 'utf8')).toMatch(/^\d+ 0\n$/);
    // pve3 has been silent for 29 minutes only (it does not answer in this sandbox either).
    expect(existsSync(join(stamps, `${PVE3.name}.deleted`))).toBe(false);

    world.clearCalls();
    const second = world.run(PVE1.name, 'cias-liveness.sh', [], options);
    expect(second.status).toBe(0);
    expect(second.stderr).toContain('cias-delete-node already ran for it');
    expect(callsTo(world.shimCalls(), 'pvecm').filter((argv) => argv[0] === 'delnode')).toEqual([]);
  });

  it('deletes nobody while the cluster is not quorate', () => {
    world.admin('node', PVE2.name, '--online', '0');
    world.admin('node', PVE3.name, '--online', '0');
    mkdirSync(stamps, { recursive: true });
    for (const node of [PVE2, PVE3, PVE4]) {
      writeFileSync(join(stamps, `${node.name}.last-seen`), `${Math.floor(Date.now() / 1000) - 3600}\n`);
    }
    const result = world.run(PVE1.name, 'cias-liveness.sh', [], { master: true, env: env() });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('not quorate');
    expect(callsTo(world.shimCalls(), 'pvecm').filter((argv) => argv[0] === 'delnode')).toEqual([]);
    expect(existsSync(join(stamps, `${PVE4.name}.deleted`))).toBe(false);
  });
});

describe('cias-node-leave', () => {
  let world: ScriptWorld;
  beforeEach(() => {
    world = new ScriptWorld('leave');
    buildCluster(world);
    world.admin('vm', PVE1.name, '100', '--name', 'gateway', '--memory-mb', '2048', '--onboot', '1', '--status', 'running');
    world.admin('vm', PVE2.name, '110', '--memory-mb', '1024', '--status', 'running');
    world.admin('vm', PVE2.name, '111', '--memory-mb', '1024', '--status', 'stopped');
    world.clearCalls();
  });
  afterEach(() => world.cleanup());

  it('moves its VMs to the least-loaded non-master node, asks the master to delete it, powers off', () => {
    const result = world.run(PVE2.name, 'cias-node-leave.sh');
    expect(result.stderr).toContain('left the cluster');
    expect(result.status).toBe(0);
    const migrations = callsTo(world.shimCalls(), 'pvesh').filter((argv) => argv[1].endsWith('/migrate'));
    // Free RAM: pve3 15360 MB, pve4 7168 MB; after the running VM 110 arrives pve3 still has 14336 MB.
    expect(migrations).toEqual([
      ['create', `/nodes/${PVE2.name}/qemu/110/migrate`, '--target', PVE3.name, '--online', '1'],
      ['create', `/nodes/${PVE2.name}/qemu/111/migrate`, '--target', PVE3.name],
    ]);
    expect(world.vm(110)).toEqual({ node: PVE3.name, status: 'running' });
    expect(world.vm(111)).toEqual({ node: PVE3.name, status: 'stopped' });
    expect(world.vm(100)?.node).toBe(PVE1.name);

    const fakes = world.fakeCalls();
    expect(callsTo(fakes, 'ssh')).toEqual([
      ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', `root@${VIP}`, `setsid -f /usr/local/sbin/cias-delete-node ${PVE2.name} --wait-offline 30 </dev/null >/dev/null 2>&1`],
    ]);
    expect(callsTo(fakes, 'shutdown')).toEqual([['-h', '+1', `cias: ${PVE2.name} leaves the cluster`]]);
    expect(callsTo(fakes, 'systemctl').filter((argv) => argv[0] === 'stop')).toEqual([]);
  });

  it('with --no-poweroff stays on', () => {
    const result = world.run(PVE2.name, 'cias-node-leave.sh', ['--no-poweroff']);
    expect(result.status).toBe(0);
    expect(callsTo(world.fakeCalls(), 'shutdown')).toEqual([]);
  });

  it('on the master: hands the role over and stays when no node takes the gateway', () => {
    const result = world.run(PVE1.name, 'cias-node-leave.sh', [], {
      master: true,
      env: { CIAS_LEAVE_POLL_SEC: '1', CIAS_LEAVE_TIMEOUT_MIN: '0' },
    });
    expect(result.status).toBe(6);
    expect(result.stderr).toContain('no new master took over');
    const systemctl = callsTo(world.fakeCalls(), 'systemctl');
    expect(systemctl).toContainEqual(['stop', 'keepalived']);
    expect(systemctl).toContainEqual(['stop', 'moosefs-cgiserv', 'moosefs-master']);
    expect(systemctl[systemctl.length - 1]).toEqual(['start', 'keepalived']);
    expect(callsTo(world.fakeCalls(), 'shutdown')).toEqual([]);
  });

  it('refuses without quorum', () => {
    world.admin('node', PVE3.name, '--online', '0');
    world.admin('node', PVE4.name, '--online', '0');
    const result = world.run(PVE2.name, 'cias-node-leave.sh');
    expect(result.status).toBe(6);
    expect(callsTo(world.shimCalls(), 'pvesh').filter((argv) => argv[0] === 'create')).toEqual([]);
    expect(callsTo(world.fakeCalls(), 'shutdown')).toEqual([]);
  });
});
