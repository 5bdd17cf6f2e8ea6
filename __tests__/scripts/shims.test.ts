/**
 * The Proxmox shims themselves (lab/shims): they must fail where Proxmox fails, or the script tests
 * that run against them prove nothing.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScriptWorld } from './harness';

const A = { name: 'pvea', ip: '10.254.2.1', canBeMaster: true };
const B = { name: 'pveb', ip: '10.254.2.2', canBeMaster: true };

describe('Proxmox shims', () => {
  let world: ScriptWorld;
  beforeEach(() => {
    world = new ScriptWorld('shims');
    world.addNode(A, {}, { maxmemMb: 4096, basememMb: 1024 });
    world.addNode(B);
  });
  afterEach(() => world.cleanup());

  const join2 = () => {
    world.pveOk(A.name, ['pvecm', 'create', 'LAB', '--link0', A.ip]);
    world.pveOk(B.name, ['pvecm', 'add', A.ip, '--fingerprint', world.admin('fingerprint', A.name).trim()], 'pw\n');
  };

  it('pvecm create fails the second time like Proxmox', () => {
    world.pveOk(A.name, ['pvecm', 'create', 'LAB']);
    const again = world.pve(A.name, ['pvecm', 'create', 'LAB']);
    expect(again.status).toBe(255);
    expect(again.stderr).toBe("cluster config '/etc/pve/corosync.conf' already exists\n");
    expect(readFileSync(join(world.shimState, 'view', A.name, 'corosync.conf'), 'utf8')).toMatch(/cluster_name: LAB\n/);
  });

  it('pvecm add without --fingerprint or with a wrong one fails, and the node stays out', () => {
    world.pveOk(A.name, ['pvecm', 'create', 'LAB']);
    expect(world.pve(B.name, ['pvecm', 'add', A.ip], 'pw\n').status).toBe(255);
    const wrong = world.pve(B.name, ['pvecm', 'add', A.ip, '--fingerprint', `${'AB:'.repeat(31)}AB`], 'pw\n');
    expect(wrong.status).toBe(255);
    expect(wrong.stderr).toContain('does not match');
    expect(world.pveOk(A.name, ['pvecm', 'nodes'])).not.toContain(B.name);
  });

  it('qm list shows the guests of this node only; pvesh /cluster/resources has the real shape', () => {
    join2();
    world.admin('vm', A.name, '101', '--memory-mb', '1024', '--status', 'running', '--name', 'web');
    world.admin('vm', B.name, '102');
    expect(world.pveOk(A.name, ['qm', 'list']).split('\n').filter((l) => /^\s+\d+ /.test(l)).map((l) => l.trim().split(/\s+/).slice(0, 3))).toEqual([
      ['101', 'web', 'running'],
    ]);
    const resources = JSON.parse(world.pveOk(B.name, ['pvesh', 'get', '/cluster/resources', '--output-format', 'json'])) as Array<Record<string, unknown>>;
    const nodeA = resources.find((r) => r.id === `node/${A.name}`);
    expect(nodeA).toMatchObject({ type: 'node', node: A.name, status: 'online', maxmem: 4096 * 1048576, mem: 2048 * 1048576 });
    expect(resources.find((r) => r.id === 'qemu/101')).toMatchObject({ type: 'qemu', vmid: 101, node: A.name, name: 'web', status: 'running', maxmem: 1024 * 1048576 });
    expect(resources.filter((r) => r.type === 'storage').map((r) => r.id)).toEqual([`storage/${A.name}/local`, `storage/${B.name}/local`]);

    world.admin('node', A.name, '--online', '0');
    const offline = JSON.parse(world.pveOk(B.name, ['pvesh', 'get', '/cluster/resources', '--type', 'vm', '--output-format', 'json'])) as Array<Record<string, unknown>>;
    expect(offline.find((r) => r.vmid === 101)).toMatchObject({ node: A.name, status: 'unknown' });
  });

  it('a VM registered on another node blocks a restore there until its config moves (SPEC §8)', () => {
    join2();
    world.admin('vm', A.name, '100', '--status', 'running');
    world.admin('node', A.name, '--online', '0');
    const archive = join(world.dir, 'gw.vma');
    writeFileSync(archive, 'name: gateway\nmemory: 2048\n');
    // Two nodes, one down: no quorum, /etc/pve read-only, until the expected votes are lowered.
    expect(world.pve(B.name, ['qmrestore', archive, '100', '--force', '1']).stderr).toBe('cluster not ready - no quorum?\n');
    world.pveOk(B.name, ['pvecm', 'expected', '1']);
    const blocked = world.pve(B.name, ['qmrestore', archive, '100', '--force', '1']);
    expect(blocked.status).toBe(255);
    expect(blocked.stderr).toBe(`unable to restore VM 100 - VM 100 already exists on node '${A.name}'\n`);

    const pve = join(world.shimState, 'cluster', 'nodes');
    renameSync(join(pve, A.name, 'qemu-server', '100.conf'), join(pve, B.name, 'qemu-server', '100.conf'));
    world.pveOk(B.name, ['qmrestore', archive, '100', '--force', '1', '--start', '1']);
    expect(world.vm(100)).toEqual({ node: B.name, status: 'running' });
    expect(world.vmConf(B.name, 100)).toBe('name: gateway\nmemory: 2048\n');
  });

  it('refuses what PVE 9 refuses and what a running VM forbids', () => {
    join2();
    const maxfiles = world.pve(A.name, ['pvesm', 'add', 'dir', 'old', '--path', '/srv', '--maxfiles', '3']);
    expect(maxfiles.status).toBe(255);
    expect(maxfiles.stderr).toContain('maxfiles: property is not defined in schema');
    world.admin('vm', A.name, '101', '--status', 'running');
    const offline = world.pve(A.name, ['qm', 'migrate', '101', B.name]);
    expect(offline.stderr).toBe("can't migrate running VM without --online\n");
    world.pveOk(A.name, ['qm', 'migrate', '101', B.name, '--online', '1']);
    expect(world.vm(101)).toEqual({ node: B.name, status: 'running' });
    expect(world.pve(B.name, ['pvesh', 'get', '/cluster/backup/none', '--output-format', 'json']).stderr).toBe("No such job 'none'\n");
    expect(world.pve(B.name, ['pvesh', 'get', '/version', '--output-format', 'json']).stderr).toBe("No 'get' handler defined for '/version'\n");
  });

  it('records every call as one JSON line with the node', () => {
    const log = join(world.dir, 'direct.log');
    const env = { ...world.env(A.name), CIAS_SHIM_LOG: log };
    spawnSync(join(__dirname, '..', '..', 'lab', 'shims', 'qm'), ['list'], { env });
    spawnSync(join(__dirname, '..', '..', 'lab', 'shims', 'pvesh'), ['get', '/nodes', '--output-format', 'json'], { env });
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.node, l.cmd, l.argv])).toEqual([
      [A.name, 'qm', ['list']],
      [A.name, 'pvesh', ['get', '/nodes', '--output-format', 'json']],
    ]);
    expect(lines[0].ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});
