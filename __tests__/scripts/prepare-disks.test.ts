/**
 * cias-prepare-disks on real block devices: loop devices over sparse files in the scratch directory
 * (detached in afterAll). Mounts happen inside the sandbox's private mount namespace and vanish
 * with it, so each check that needs the mount runs in the same sandbox as the script.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandbox, ScriptWorld, SCRIPTS_DIR } from './harness';
import { PVE1 } from './cluster-fixture';

function sh(argv: readonly string[]): string {
  const result = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

function probe(device: string, tag: 'TYPE' | 'LABEL' | 'UUID'): string {
  return spawnSync('blkid', ['-p', '-s', tag, '-o', 'value', device], { encoding: 'utf8' }).stdout.trim();
}

describe('cias-prepare-disks', () => {
  let world: ScriptWorld;
  const loops: string[] = [];
  let fstab: string;
  let disksConf: string;
  let dataRoot: string;

  /** A fresh 320 MiB loop device (XFS needs 300 MiB). */
  function newLoop(): string {
    const image = join(world.dir, `disk-${loops.length}.img`);
    sh(['truncate', '-s', '320M', image]);
    const device = sh(['losetup', '--find', '--show', image]);
    loops.push(device);
    return device;
  }

  beforeAll(() => {
    world = new ScriptWorld('disks');
    world.addNode(PVE1);
    fstab = join(world.dir, 'fstab');
    disksConf = join(world.dir, 'disks.conf');
    dataRoot = join(world.dir, 'data');
  });
  afterAll(() => {
    for (const device of loops) spawnSync('losetup', ['-d', device]);
    world.cleanup();
  });
  beforeEach(() => {
    writeFileSync(fstab, '# /etc/fstab: static file system information.\nUUID=1111-2222 / ext4 errors=remount-ro 0 1\n');
  });

  /** Runs the script, then `after` (shell) in the same mount namespace. */
  function prepare(lines: readonly string[], after = 'true'): { status: number; stderr: string; after: string } {
    writeFileSync(disksConf, `${lines.join('\n')}\n`);
    const env = { ...world.env(PVE1.name), CIAS_DISKS_CONF: disksConf, CIAS_FSTAB: fstab, CIAS_DATA_ROOT: dataRoot };
    const script = `bash ${SCRIPTS_DIR}/cias-prepare-disks.sh; rc=$?; echo "rc=$rc"; ${after}`;
    const result = sandbox(['bash', '-c', script], { env, timeoutMs: 120_000 });
    const rc = /^rc=(\d+)$/m.exec(result.stdout);
    if (rc === null) throw new Error(`no exit code in ${result.stdout}\n${result.stderr}`);
    return { status: Number(rc[1]), stderr: result.stderr, after: result.stdout.slice(rc.index + rc[0].length).trim() };
  }

  it('formats blank listed disks, enters them in fstab by UUID and mounts them at <root>/<dev>', () => {
    const xfs = newLoop();
    const ext4 = newLoop();
    const xfsName = xfs.slice('/dev/'.length);
    const ext4Name = ext4.slice('/dev/'.length);
    const result = prepare([`${xfs} xfs 0`, `${ext4} ext4 0`], `findmnt -rn -o SOURCE,TARGET,FSTYPE --target ${dataRoot}/${xfsName}; findmnt -rn -o SOURCE,TARGET,FSTYPE --target ${dataRoot}/${ext4Name}`);
    expect(result.status).toBe(0);
    expect(probe(xfs, 'TYPE')).toBe('xfs');
    expect(probe(ext4, 'TYPE')).toBe('ext4');
    expect(probe(xfs, 'LABEL')).toBe('cias-data');
    expect(result.after.split('\n')).toEqual([`${xfs} ${dataRoot}/${xfsName} xfs`, `${ext4} ${dataRoot}/${ext4Name} ext4`]);

    const lines = readFileSync(fstab, 'utf8').split('\n');
    expect(lines.slice(0, 2)).toEqual(['# /etc/fstab: static file system information.', 'UUID=1111-2222 / ext4 errors=remount-ro 0 1']);
    expect(lines).toContain(`UUID=${probe(xfs, 'UUID')} ${dataRoot}/${xfsName} xfs defaults,noatime,nofail,x-systemd.before=moosefs-chunkserver.service 0 2`);
    expect(lines).toContain(`UUID=${probe(ext4, 'UUID')} ${dataRoot}/${ext4Name} ext4 defaults,noatime,nofail,x-systemd.before=moosefs-chunkserver.service 0 2`);
    expect(existsSync(`${fstab}.prev`)).toBe(true);

    // Again: nothing is formatted (same UUIDs), fstab stays byte for byte, the disks are mounted again.
    const uuids = [probe(xfs, 'UUID'), probe(ext4, 'UUID')];
    const before = readFileSync(fstab, 'utf8');
    const again = prepare([`${xfs} xfs 0`, `${ext4} ext4 0`], `findmnt -rn -o SOURCE --target ${dataRoot}/${xfsName}`);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('already carries a xfs filesystem labelled cias-data');
    expect([probe(xfs, 'UUID'), probe(ext4, 'UUID')]).toEqual(uuids);
    expect(readFileSync(fstab, 'utf8')).toBe(before);
    expect(again.after).toBe(xfs);
  });

  it('refuses a disk that already holds a filesystem unless forced', () => {
    const used = newLoop();
    sh(['mkfs.ext4', '-q', '-L', 'precious', used]);
    const uuid = probe(used, 'UUID');

    const refused = prepare([`${used} xfs 0`]);
    expect(refused.status).toBe(4);
    expect(refused.stderr).toContain(`${used} already holds data (ext4); refusing to format it`);
    expect(probe(used, 'LABEL')).toBe('precious');
    expect(probe(used, 'UUID')).toBe(uuid);
    expect(readFileSync(fstab, 'utf8')).not.toContain(used.slice('/dev/'.length));

    const forced = prepare([`${used} xfs 1`]);
    expect(forced.status).toBe(0);
    expect(forced.stderr).toContain('wiping it as forced');
    expect(probe(used, 'TYPE')).toBe('xfs');
    expect(probe(used, 'LABEL')).toBe('cias-data');
  });

  it('never formats a mounted disk, even when forced', () => {
    const mounted = newLoop();
    sh(['mkfs.ext4', '-q', '-L', 'inuse', mounted]);
    const uuid = probe(mounted, 'UUID');
    writeFileSync(disksConf, `${mounted} xfs 1\n`);
    const env = { ...world.env(PVE1.name), CIAS_DISKS_CONF: disksConf, CIAS_FSTAB: fstab, CIAS_DATA_ROOT: dataRoot };
    const elsewhere = join(world.dir, 'elsewhere');
    sh(['mkdir', '-p', elsewhere]);
    const result = sandbox(['bash', '-c', `mount ${mounted} ${elsewhere} && exec bash ${SCRIPTS_DIR}/cias-prepare-disks.sh`], { env });
    expect(result.status).toBe(4);
    expect(result.stderr).toContain('is mounted: a disk in use is never formatted');
    expect(probe(mounted, 'UUID')).toBe(uuid);
  });

  it('checks every line before touching any disk', () => {
    const blank = newLoop();
    const result = prepare([`${blank} xfs 0`, '/dev/sdz btrfs 0']);
    expect(result.status).toBe(7);
    expect(result.stderr).toContain('filesystem must be xfs or ext4');
    expect(probe(blank, 'TYPE')).toBe('');
  });

  it('rejects a device outside /dev', () => {
    const result = prepare([`${world.dir}/disk.img xfs 1`]);
    expect(result.status).toBe(7);
  });
});
