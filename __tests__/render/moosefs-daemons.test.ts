/**
 * Real MooseFS 3.0 daemons on the rendered configs, as they run on the master node: the node owns
 * 10.254.1.1 and holds the VIP 10.254.0.254; `cias-pve-master` resolves through the rendered hosts
 * block (private /etc/hosts); every daemon runs in a throwaway network namespace with a private
 * /var/lib/mfs, so nothing touches the host's MooseFS state.
 */
import { chownSync, chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeHostsBlock, renderHostsBlock } from '../../render/hosts';
import {
  MFS_CGI_ROOT,
  MFS_CGISERV_PORT,
  mfsSetTrashTimeArgv,
  renderMfsChunkserverCfg,
  renderMfsExportsCfg,
  renderMfsHddCfg,
  renderMfsMasterCfg,
  renderMfsMetaloggerCfg,
  renderMfsMountFstabLine,
} from '../../render/moosefs';
import { Daemon, MountOptions, Netns, runOk, waitFor } from '../helpers/netns';

const NODE_IP = '10.254.1.1';
const VIP = '10.254.0.254';
/** An address of the same host outside 10.254.0.0/16 (own interface): a client coming from it must be refused. */
const OUTSIDER_IP = '10.253.1.1';
const START_MS = 15_000;

describe('MooseFS daemons on rendered configs', () => {
  let root: string;
  let ns: Netns;
  let mounts: MountOptions;
  const paths = {
    etc: '',
    var: '',
    data: '',
    mnt: '',
    fstab: '',
  };
  let master: Daemon | undefined;
  let chunkserver: Daemon | undefined;
  let metalogger: Daemon | undefined;
  let cgiserv: Daemon | undefined;

  function cfg(name: string): string {
    return join(paths.etc, name);
  }

  function mfscli(set: string): string[] {
    const result = ns.exec(['mfscli', '-n', '-H', 'cias-pve-master', set], mounts);
    if (result.status !== 0) return [];
    return result.stdout.split('\n').filter(Boolean);
  }

  /** Rows of one mfscli data set, split on tabs, label dropped. */
  function rows(set: string, label: string): string[][] {
    return mfscli(set)
      .filter((line) => line.startsWith(`${label}:`))
      .map((line) => line.split('\t').slice(1));
  }

  /** Run a shell script in the node namespace (args as $1…); mounts made there vanish with it. */
  function shell(script: string, ...args: string[]) {
    return ns.exec(['sh', '-c', script, 'sh', ...args], { ...mounts, timeoutMs: 30_000 });
  }

  function logs(): string {
    return [master, chunkserver, metalogger, cgiserv].map((d) => (d ? `---- ${d.label}\n${d.output}` : '')).join('\n');
  }

  function startMaster(): void {
    master = ns.spawn('mfsmaster', ['mfsmaster', '-f', '-c', cfg('mfsmaster.cfg'), 'start'], mounts);
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'cias-mfs-'));
    chmodSync(root, 0o755); // the daemons drop to user mfs and must reach their directories
    const mfsUid = Number(runOk(['id', '-u', 'mfs']).trim());
    const mfsGid = Number(runOk(['id', '-g', 'mfs']).trim());
    paths.etc = join(root, 'etc');
    paths.var = join(root, 'var-lib-mfs');
    paths.data = join(root, 'data');
    paths.mnt = join(root, 'mnt-mfs');
    paths.fstab = join(paths.etc, 'fstab');
    for (const dir of [paths.etc, paths.var, paths.data, paths.mnt]) mkdirSync(dir);
    for (const disk of ['sdb', 'sdc']) mkdirSync(join(paths.data, disk));
    for (const dir of [paths.var, join(paths.data, 'sdb'), join(paths.data, 'sdc')]) chownSync(dir, mfsUid, mfsGid);

    const hostsFile = join(paths.etc, 'hosts');
    writeFileSync(
      hostsFile,
      mergeHostsBlock('127.0.0.1 localhost\n', renderHostsBlock({ nodeIp: NODE_IP, fqdn: 'pve.r1.a.1-1.example.com', nodeName: 'pve-r1-a-1-1' })),
    );
    const common = { dataPath: paths.var };
    writeFileSync(cfg('mfsmaster.cfg'), renderMfsMasterCfg({ ...common, exportsPath: cfg('mfsexports.cfg') }));
    writeFileSync(cfg('mfsexports.cfg'), renderMfsExportsCfg());
    writeFileSync(cfg('mfsmetalogger.cfg'), renderMfsMetaloggerCfg({ ...common, nodeIp: NODE_IP }));
    // The test disks share the root filesystem; keep the reserve small so they count as usable.
    writeFileSync(
      cfg('mfschunkserver.cfg'),
      renderMfsChunkserverCfg({ ...common, nodeIp: NODE_IP, hddConfigPath: cfg('mfshdd.cfg'), hddLeaveSpace: '256MiB' }),
    );
    writeFileSync(cfg('mfshdd.cfg'), renderMfsHddCfg({ disks: ['sdb', 'sdc'], diskRoot: paths.data }));
    writeFileSync(paths.fstab, renderMfsMountFstabLine({ mountPoint: paths.mnt }));
    copyFileSync('/var/lib/mfs/metadata.mfs.empty', join(paths.var, 'metadata.mfs'));
    chownSync(join(paths.var, 'metadata.mfs'), mfsUid, mfsGid);

    ns = Netns.create(Netns.uniqueName('mfs-', 'node'));
    // Node /16 and VIP /8 are different prefixes, so the VIP is a primary address and a connection to
    // it leaves from the VIP unless BIND_HOST says otherwise (asserted below): the check can fail.
    ns.addBridge('vmbr0', [`${NODE_IP}/16`, `${VIP}/8`]);
    ns.addBridge('wan0', [`${OUTSIDER_IP}/16`]);
    // A private /var/lib/mfs too: mfscgiserv always locks /var/lib/mfs/.mfscgiserv.lock.
    mounts = { hostsFile, binds: [[paths.var, '/var/lib/mfs']] };
  });

  afterAll(async () => {
    for (const daemon of [cgiserv, metalogger, chunkserver, master]) await daemon?.stop(10_000).catch(() => undefined);
    await ns?.destroy();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('mfsmaster starts from metadata.mfs.empty on the rendered mfsmaster.cfg and exports', async () => {
    startMaster();
    await waitFor('mfsmaster to answer mfscli', () => mfscli('-SIG').length > 0, START_MS).catch((e) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
    // mfscli may fail on a master still reading its exports (seen on a loaded machine): ask again.
    let exports: string[][] = [];
    await waitFor('mfsmaster to list its exports', () => (exports = rows('-SEX', 'exports')).length > 0, START_MS).catch((e) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
    expect(exports.map((row) => row.slice(0, 3)).sort()).toEqual([
      ['10.254.0.0', '10.254.255.255', '. (META)'],
      ['10.254.0.0', '10.254.255.255', '/'],
    ]);
    // mfscli prints the root export's settrashtime bounds (min, max) before two flag columns.
    const rootExport = exports.find((row) => row[2] === '/')!;
    expect(rootExport.slice(-4, -2)).toEqual(['0', '3600']);
  });

  it('the chunkserver registers from the node IP, not the VIP, with both listed disks', async () => {
    expect(ns.ip('route', 'get', VIP)).toMatch(new RegExp(`src ${VIP.replace(/\./g, '\\.')} `));
    chunkserver = ns.spawn('mfschunkserver', ['mfschunkserver', '-f', '-c', cfg('mfschunkserver.cfg'), 'start'], mounts);
    const servers = await waitFor('a registered chunkserver', () => rows('-SCS', 'chunk servers').length > 0 && rows('-SCS', 'chunk servers'), START_MS).catch(
      (e) => {
        throw new Error(`${e.message}\n${logs()}`);
      },
    );
    expect(servers.map((row) => row[0])).toEqual([NODE_IP]);
    const disks = await waitFor('both disks reported', () => {
      const found = rows('-SHD', 'disks');
      return found.length === 2 && found;
    }, START_MS);
    expect(disks.map((row) => row[0]).sort()).toEqual([
      `${NODE_IP}:9422:${join(paths.data, 'sdb')}/`,
      `${NODE_IP}:9422:${join(paths.data, 'sdc')}/`,
    ]);
  });

  it('the metalogger connects from the node IP and receives the metadata', async () => {
    metalogger = ns.spawn('mfsmetalogger', ['mfsmetalogger', '-f', '-c', cfg('mfsmetalogger.cfg'), 'start'], mounts);
    const loggers = await waitFor('a connected metalogger', () => {
      const found = rows('-SMB', 'metadata backup loggers');
      return found.length > 0 && found;
    }, START_MS);
    expect(loggers.map((row) => row[0])).toEqual([NODE_IP]);
    await waitFor(
      'the metalogger copy of metadata and changelogs in the shared DATA_PATH',
      () => {
        const files = readdirSync(paths.var);
        return files.some((f) => f.startsWith('metadata_ml.')) && files.some((f) => /^changelog_ml_back\.\d+\.mfs$/.test(f));
      },
      START_MS,
    );
  });

  it('the rendered fstab line mounts cias-pve-master; a file written is read back and lands on the chunk disks', () => {
    const result = shell(
      'set -e; mount -T "$1" "$2"; trap \'umount "$2"\' EXIT; printf "%s" "$3" > "$2/hello.txt"; sync; cat "$2/hello.txt"; echo; grep " $2 " /proc/mounts',
      paths.fstab,
      paths.mnt,
      'written through mfsmount',
    );
    const [readBack, mountLine] = result.stdout.split('\n');
    expect({ status: result.status, readBack, stderr: result.stderr }).toEqual({
      status: 0,
      readBack: 'written through mfsmount',
      stderr: expect.any(String),
    });
    // /proc/mounts escapes '#' as \043.
    expect(mountLine).toMatch(new RegExp(`^mfs\\\\043cias-pve-master:9421 ${paths.mnt} fuse `));
    const chunks = ['sdb', 'sdc'].flatMap((disk) =>
      runOk(['find', join(paths.data, disk), '-name', 'chunk_*.mfs']).split('\n').filter(Boolean),
    );
    expect(chunks.length).toBeGreaterThan(0);
  });

  it('the short trash time can be set and the export refuses anything longer', () => {
    const [command, ...args] = mfsSetTrashTimeArgv({ mountPoint: paths.mnt });
    const result = shell(
      `set -e; fstab=$1 mnt=$2; shift 2; mount -T "$fstab" "$mnt"; trap 'umount "$mnt"' EXIT; ${command} "$@" >/dev/null; ` +
        'mfsgettrashtime "$mnt/hello.txt"; if mfssettrashtime 7200 "$mnt/hello.txt" 2>&1; then echo "7200 accepted"; else echo "7200 refused"; fi',
      paths.fstab,
      paths.mnt,
      ...args,
    );
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    expect(result.stdout).toContain(`${paths.mnt}/hello.txt: 3600`);
    expect(result.stdout).toMatch(/Operation not permitted\s+7200 refused/);
  });

  it('a client coming from outside 10.254.0.0/16 is refused by the exports', () => {
    const result = shell(
      'mfsmount -H "$1" "$2" 2>&1; status=$?; if grep -q " $2 " /proc/mounts; then umount "$2"; fi; exit $status',
      OUTSIDER_IP,
      paths.mnt,
    );
    expect(result.status).not.toBe(0);
    expect(result.stdout).toMatch(/mfsmaster register error: Permission denied/);
  });

  it(`mfscgiserv serves the status page on port ${MFS_CGISERV_PORT}`, async () => {
    cgiserv = ns.spawn('mfscgiserv', ['mfscgiserv', '-f', '-P', String(MFS_CGISERV_PORT), '-R', MFS_CGI_ROOT, 'start'], mounts);
    const page = await waitFor('the CGI page', () => {
      const result = ns.exec(
        [
          '/usr/bin/python3', '-c',
          'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())',
          `http://cias-pve-master:${MFS_CGISERV_PORT}/mfs.cgi?masterhost=cias-pve-master&sections=CS`,
        ],
        mounts,
      );
      return result.status === 0 && result.stdout;
    }, START_MS);
    expect(page).toMatch(/MooseFS/);
    expect(page).toContain(NODE_IP);
  });

  it('a new master restores from the metalogger files alone (failover path: shared DATA_PATH + mfsmaster restore)', async () => {
    await metalogger?.stop(10_000);
    await master?.stop(10_000);
    // What a fresh master node has: only the metalogger's copies, none of the old master's files.
    for (const file of readdirSync(paths.var)) {
      if (/^(metadata\.mfs|metadata\.mfs\.back(\.\d+)?|changelog\.\d+\.mfs|metadata\.crc)$/.test(file)) rmSync(join(paths.var, file));
    }
    const restore = ns.exec(['mfsmaster', '-c', cfg('mfsmaster.cfg'), 'restore'], mounts);
    expect({ status: restore.status, output: restore.stdout + restore.stderr }).toEqual({ status: 0, output: expect.any(String) });
    startMaster();
    await waitFor('the restored master to see the chunkserver again', () => rows('-SCS', 'chunk servers').length > 0, START_MS).catch((e) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
    const result = shell('set -e; mount -T "$1" "$2"; trap \'umount "$2"\' EXIT; cat "$2/hello.txt"', paths.fstab, paths.mnt);
    expect(result.stdout).toBe('written through mfsmount');
  });
});
