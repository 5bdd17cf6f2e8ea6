/**
 * MooseFS 3.0 configuration for one Proxmox node (SPEC §4; REFERENCE §4).
 *
 * Every node gets all five files. mfsmaster is installed everywhere but only the master runs it;
 * chunkserver, metalogger and the mount follow the name `cias-pve-master` (the floating VIP in the
 * cias /etc/hosts block), so they find whichever node holds the master role.
 *
 * Master and metalogger share DATA_PATH on purpose: on failover `mfsmaster -a` (3.0's
 * `mfsmetarestore` is a stub that does nothing) scans its DATA_PATH for the newest `metadata*` file
 * and replays every `changelog*` it finds there, so the new master restores straight from the
 * metalogger's `metadata_ml.mfs.back` and `changelog_ml.*.mfs` without copying anything.
 *
 * Chunkserver and metalogger bind to the node's own IP: the master node also holds the VIP, and a
 * connection from a node to its own VIP would otherwise leave from the VIP, registering every
 * master-node daemon under an address that moves away at the next failover.
 */
import { isIpv4 } from '../model/ipv4';
import { isHostName } from './hosts';

export const MFS_MASTER_HOST = 'cias-pve-master';
export const MFS_DATA_PATH = '/var/lib/mfs';
export const MFS_EXPORTS_PATH = '/etc/mfs/mfsexports.cfg';
export const MFS_HDD_CONFIG_PATH = '/etc/mfs/mfshdd.cfg';
export const MFS_MOUNT_POINT = '/mnt/mfs';
/** Chunk disks are mounted at `<root>/<device>` (SPEC §4: /dev/sdb → /data/sdb). */
export const MFS_DISK_ROOT = '/data';
export const MFS_WORKING_USER = 'mfs';

/** Master port for metaloggers (MATOML). The metalogger man page says 9420; the binary uses 9419. */
export const MFS_METALOGGER_PORT = 9419;
/** Master port for chunkservers (MATOCS). */
export const MFS_CHUNKSERVER_PORT = 9420;
/** Master port for clients: mfsmount, mfscli (MATOCL). */
export const MFS_CLIENT_PORT = 9421;
/** mfscgiserv web status, run on the master only: http://cias-pve-master:9425/mfs.cgi?masterhost=cias-pve-master */
export const MFS_CGISERV_PORT = 9425;
/** Debian keeps the CGI files here, not at mfscgiserv's built-in default (pass `-R`). */
export const MFS_CGI_ROOT = '/usr/share/moosefs-cgi';

/** Only the Proxmox nodes' network may mount MooseFS (SPEC §4); the VIP 10.254.0.254 is inside it. */
export const MFS_EXPORT_NETWORK = '10.254.0.0/16';
/**
 * Short trash: 1 hour. Deleted vzdump archives are gigabytes each; a day of trash (MooseFS's
 * default) can fill the chunk disks during a backup window. 3.0 keeps trash time in whole hours.
 */
export const DEFAULT_TRASH_TIME_SECONDS = 3600;
/** The largest value MooseFS accepts for a trash time (32-bit seconds). */
const MAX_TRASH_TIME_SECONDS = 4294967295;
/** Free space the chunkserver leaves on each disk; Debian's README suggests 5G over the 256MiB default. */
export const DEFAULT_HDD_LEAVE_SPACE = '5GiB';

const BANNER = '# Managed by cias (render/moosefs.ts); local edits are overwritten on the next deploy.';

interface DaemonIdentity {
  /** Data directory (metadata, changelogs, lock file). @default '/var/lib/mfs' */
  readonly dataPath?: string;
  /** User the daemon drops to; it must own dataPath. @default 'mfs' */
  readonly workingUser?: string;
  /** Group the daemon drops to. @default 'mfs' */
  readonly workingGroup?: string;
}

export interface MfsMasterParams extends DaemonIdentity {
  /** @default '/etc/mfs/mfsexports.cfg' */
  readonly exportsPath?: string;
}

export interface MfsExportsParams {
  /** Upper bound clients may set with mfssettrashtime, in seconds. @default 3600 */
  readonly trashTimeSeconds?: number;
}

export interface MfsFollowerParams extends DaemonIdentity {
  /** The node's own internal IP: the daemon connects from here, never from the VIP. */
  readonly nodeIp: string;
  /** Name or address of the master role. @default 'cias-pve-master' */
  readonly masterHost?: string;
}

export type MfsMetaloggerParams = MfsFollowerParams;

export interface MfsChunkserverParams extends MfsFollowerParams {
  /** @default '/etc/mfs/mfshdd.cfg' */
  readonly hddConfigPath?: string;
  /** Space kept free on every chunk disk (MooseFS size syntax). @default '5GiB' */
  readonly hddLeaveSpace?: string;
}

export interface MfsHddParams {
  /** Whole-disk device names (sdb, vdc, nvme1n1): the node's chunk disks from cluster.yaml. */
  readonly disks: readonly string[];
  /** Where the disks are mounted, one directory per device. @default '/data' */
  readonly diskRoot?: string;
}

export interface MfsMountParams {
  /** @default 'cias-pve-master' */
  readonly masterHost?: string;
  /** @default 9421 */
  readonly port?: number;
  /** @default '/mnt/mfs' */
  readonly mountPoint?: string;
}

export interface MfsTrashTimeParams {
  /** @default '/mnt/mfs' */
  readonly mountPoint?: string;
  /** @default 3600 */
  readonly trashTimeSeconds?: number;
}

/** Same device rule as cluster.yaml: whole disks only, no /dev/ prefix, no partitions. */
const DEVICE_NAME = /^(sd[a-z]{1,2}|vd[a-z]{1,2}|xvd[a-z]{1,2}|hd[a-z]|nvme\d+n\d+)$/;
const ABSOLUTE_PATH = /^(\/[A-Za-z0-9_.+-]+)+$/;
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
/** mfshdd.cfg / HDD_LEAVE_SPACE_DEFAULT size syntax (REFERENCE 4.5). */
const SIZE = /^\d+(\.\d+)?([kMGTPE]|[KMGTPE]i)?B?$/;

class Problems {
  private readonly items: string[] = [];

  check(ok: boolean, message: string): void {
    if (!ok) this.items.push(message);
  }

  throwIfAny(what: string): void {
    if (this.items.length > 0) throw new Error(`invalid ${what} parameters:\n${this.items.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function isAbsolutePath(path: string): boolean {
  return ABSOLUTE_PATH.test(path) && !path.split('/').some((part) => part === '.' || part === '..');
}

function checkIdentity(problems: Problems, params: DaemonIdentity): Required<DaemonIdentity> {
  const resolved = {
    dataPath: params.dataPath ?? MFS_DATA_PATH,
    workingUser: params.workingUser ?? MFS_WORKING_USER,
    workingGroup: params.workingGroup ?? MFS_WORKING_USER,
  };
  problems.check(isAbsolutePath(resolved.dataPath), `dataPath ${JSON.stringify(resolved.dataPath)} is not an absolute path`);
  problems.check(USER_NAME.test(resolved.workingUser), `workingUser ${JSON.stringify(resolved.workingUser)} is not a user name`);
  problems.check(USER_NAME.test(resolved.workingGroup), `workingGroup ${JSON.stringify(resolved.workingGroup)} is not a group name`);
  return resolved;
}

/** The chunkserver refuses a master that resolves to 127.x (REFERENCE 4.5); an IP is checked here. */
function checkMasterHost(problems: Problems, masterHost: string): void {
  if (isIpv4(masterHost)) problems.check(!masterHost.startsWith('127.'), `masterHost ${masterHost} is a loopback address`);
  else problems.check(isHostName(masterHost), `masterHost ${JSON.stringify(masterHost)} is not a host name or IPv4 address`);
}

function checkNodeIp(problems: Problems, nodeIp: string): void {
  problems.check(isIpv4(nodeIp), `nodeIp ${JSON.stringify(nodeIp)} is not an IPv4 address`);
  problems.check(!nodeIp.startsWith('127.') && nodeIp !== '0.0.0.0', `nodeIp ${nodeIp} is not a node address`);
}

function cfg(lines: ReadonlyArray<string | [string, string | number]>): string {
  return [BANNER, ...lines.map((line) => (typeof line === 'string' ? line : `${line[0]} = ${line[1]}`)), ''].join('\n');
}

/** /etc/mfs/mfsmaster.cfg — the same on every node; only the master starts mfsmaster. */
export function renderMfsMasterCfg(params: MfsMasterParams = {}): string {
  const problems = new Problems();
  const id = checkIdentity(problems, params);
  const exportsPath = params.exportsPath ?? MFS_EXPORTS_PATH;
  problems.check(isAbsolutePath(exportsPath), `exportsPath ${JSON.stringify(exportsPath)} is not an absolute path`);
  problems.throwIfAny('mfsmaster.cfg');
  return cfg([
    '# mfsmaster is installed on every node but started only by the master (keepalived_to_master.sh).',
    ['WORKING_USER', id.workingUser],
    ['WORKING_GROUP', id.workingGroup],
    '# Shared with the metalogger so `mfsmaster -a` restores from its files after a failover.',
    ['DATA_PATH', id.dataPath],
    ['EXPORTS_FILENAME', exportsPath],
    ['MATOML_LISTEN_PORT', MFS_METALOGGER_PORT],
    ['MATOCS_LISTEN_PORT', MFS_CHUNKSERVER_PORT],
    ['MATOCL_LISTEN_PORT', MFS_CLIENT_PORT],
  ]);
}

/**
 * /etc/mfs/mfsexports.cfg: the filesystem and its trash (meta) view, read-write for 10.254.0.0/16
 * only. Root stays root (`maproot=0:0`, MooseFS squashes to 999:999 otherwise) because Proxmox
 * writes backups and images as root. `maxtrashtime` caps what clients may set; the existing root
 * trash time (24 h) is lowered once by `mfsSetTrashTimeArgv` on the mounted filesystem.
 */
export function renderMfsExportsCfg(params: MfsExportsParams = {}): string {
  const trash = params.trashTimeSeconds ?? DEFAULT_TRASH_TIME_SECONDS;
  const problems = new Problems();
  problems.check(
    Number.isInteger(trash) && trash >= 0 && trash <= MAX_TRASH_TIME_SECONDS,
    `trashTimeSeconds ${trash} is not a whole number of seconds in 0..${MAX_TRASH_TIME_SECONDS}`,
  );
  problems.throwIfAny('mfsexports.cfg');
  return [
    BANNER,
    `# Only the Proxmox nodes (${MFS_EXPORT_NETWORK}) may mount; trash time at most ${trash} s.`,
    `${MFS_EXPORT_NETWORK}\t/\trw,alldirs,maproot=0:0,maxtrashtime=${trash}`,
    '# The meta filesystem (trash and reserved files), for emptying the trash by hand.',
    `${MFS_EXPORT_NETWORK}\t.\trw`,
    '',
  ].join('\n');
}

/** argv that sets the short trash time on the whole filesystem (run once, on a mounted node). */
export function mfsSetTrashTimeArgv(params: MfsTrashTimeParams = {}): string[] {
  const mountPoint = params.mountPoint ?? MFS_MOUNT_POINT;
  const trash = params.trashTimeSeconds ?? DEFAULT_TRASH_TIME_SECONDS;
  const problems = new Problems();
  problems.check(isAbsolutePath(mountPoint), `mountPoint ${JSON.stringify(mountPoint)} is not an absolute path`);
  problems.check(
    Number.isInteger(trash) && trash >= 0 && trash <= MAX_TRASH_TIME_SECONDS,
    `trashTimeSeconds ${trash} is not a whole number of seconds in 0..${MAX_TRASH_TIME_SECONDS}`,
  );
  problems.throwIfAny('mfssettrashtime');
  return ['mfssettrashtime', '-r', String(trash), mountPoint];
}

/** /etc/mfs/mfsmetalogger.cfg: follows cias-pve-master from the node's own IP. */
export function renderMfsMetaloggerCfg(params: MfsMetaloggerParams): string {
  const problems = new Problems();
  const id = checkIdentity(problems, params);
  const masterHost = params.masterHost ?? MFS_MASTER_HOST;
  checkNodeIp(problems, params.nodeIp);
  checkMasterHost(problems, masterHost);
  problems.throwIfAny('mfsmetalogger.cfg');
  return cfg([
    ['WORKING_USER', id.workingUser],
    ['WORKING_GROUP', id.workingGroup],
    ['DATA_PATH', id.dataPath],
    ['MASTER_HOST', masterHost],
    ['MASTER_PORT', MFS_METALOGGER_PORT],
    ['BIND_HOST', params.nodeIp],
  ]);
}

/** /etc/mfs/mfschunkserver.cfg: serves the disks of mfshdd.cfg to cias-pve-master from the node's own IP. */
export function renderMfsChunkserverCfg(params: MfsChunkserverParams): string {
  const problems = new Problems();
  const id = checkIdentity(problems, params);
  const masterHost = params.masterHost ?? MFS_MASTER_HOST;
  const hddConfigPath = params.hddConfigPath ?? MFS_HDD_CONFIG_PATH;
  const leaveSpace = params.hddLeaveSpace ?? DEFAULT_HDD_LEAVE_SPACE;
  checkNodeIp(problems, params.nodeIp);
  checkMasterHost(problems, masterHost);
  problems.check(isAbsolutePath(hddConfigPath), `hddConfigPath ${JSON.stringify(hddConfigPath)} is not an absolute path`);
  problems.check(SIZE.test(leaveSpace), `hddLeaveSpace ${JSON.stringify(leaveSpace)} is not a MooseFS size (e.g. 256MiB, 5GiB)`);
  problems.throwIfAny('mfschunkserver.cfg');
  return cfg([
    ['WORKING_USER', id.workingUser],
    ['WORKING_GROUP', id.workingGroup],
    ['DATA_PATH', id.dataPath],
    ['HDD_CONF_FILENAME', hddConfigPath],
    ['HDD_LEAVE_SPACE_DEFAULT', leaveSpace],
    ['MASTER_HOST', masterHost],
    ['MASTER_PORT', MFS_CHUNKSERVER_PORT],
    ['BIND_HOST', params.nodeIp],
  ]);
}

/**
 * /etc/mfs/mfshdd.cfg: one `/data/<dev>` line per listed disk. With no disks the file only says so:
 * mfschunkserver exits with status 1 when it has no disk, so it must stay disabled on that node.
 */
export function renderMfsHddCfg(params: MfsHddParams): string {
  const diskRoot = params.diskRoot ?? MFS_DISK_ROOT;
  const problems = new Problems();
  problems.check(isAbsolutePath(diskRoot), `diskRoot ${JSON.stringify(diskRoot)} is not an absolute path`);
  const seen = new Set<string>();
  for (const disk of params.disks) {
    problems.check(DEVICE_NAME.test(disk), `disk ${JSON.stringify(disk)} is not a whole-disk device name (sdb, vdc, nvme1n1 …)`);
    problems.check(!seen.has(disk), `disk ${disk} is listed twice`);
    seen.add(disk);
  }
  problems.throwIfAny('mfshdd.cfg');
  if (params.disks.length === 0) {
    return [BANNER, '# No chunk disks on this node: mfschunkserver stays disabled here.', ''].join('\n');
  }
  return [BANNER, ...params.disks.map((disk) => `${diskRoot}/${disk}`), ''].join('\n');
}

/**
 * The /etc/fstab line for the MooseFS mount (mfsmount(8) "FSTAB" form): `_netdev` orders it after
 * the network at boot, `mfsdelayedinit` lets the mount succeed before the master answers (it
 * connects in the background), which a node booting during a failover needs.
 */
export function renderMfsMountFstabLine(params: MfsMountParams = {}): string {
  const masterHost = params.masterHost ?? MFS_MASTER_HOST;
  const port = params.port ?? MFS_CLIENT_PORT;
  const mountPoint = params.mountPoint ?? MFS_MOUNT_POINT;
  const problems = new Problems();
  checkMasterHost(problems, masterHost);
  problems.check(Number.isInteger(port) && port >= 1 && port <= 65535, `port ${port} is not a TCP port`);
  problems.check(isAbsolutePath(mountPoint), `mountPoint ${JSON.stringify(mountPoint)} is not an absolute path`);
  problems.throwIfAny('mfsmount fstab');
  return `${masterHost}:${port}:/ ${mountPoint} moosefs defaults,_netdev,mfsdelayedinit 0 0\n`;
}
