import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NodeRuntimeParams, renderCiasConf, renderDisksConf, renderNodesConf, shellQuote } from '../../render/node-config';

const REPO = resolve(__dirname, '../..');
const SCRIPTS_DIR = join(REPO, 'render', 'scripts');

const params: NodeRuntimeParams = {
  domain: 'example.com',
  nodeName: 'pve-master-rack-a-1-1',
  nodeFqdn: 'pve.master-rack.a.1-1.example.com',
  nodeIp: '10.254.1.1',
  canBeMaster: true,
  lanInterface: 'vmbr0',
  wanInterface: 'vmbr1',
  masterExternalIp: '192.168.56.101',
  wanPrefix: 24,
  bootstrapIp: '10.254.1.1',
};

/** The cias.conf variables docs/ARCHITECTURE.md lists, in table order. */
function architectureVariables(): string[] {
  const text = readFileSync(join(REPO, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const start = text.indexOf('### `/etc/cias/cias.conf` variables');
  const section = text.slice(start, text.indexOf('\n#', start + 10));
  return [...section.matchAll(/`(CIAS_[A-Z_]+)`/g)].map((m) => m[1]);
}

/** Sources the file with bash and prints each variable as NAME=<value>, NUL-separated. */
function sourced(conf: string, names: readonly string[]): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'cias-conf-'));
  try {
    const file = join(dir, 'cias.conf');
    writeFileSync(file, conf);
    const script = `set -eu; source "$1"; shift; for n in "$@"; do printf '%s=%s\\0' "$n" "\${!n}"; done`;
    const result = spawnSync('bash', ['-c', script, 'read', file, ...names], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(result.stderr);
    return Object.fromEntries(result.stdout.split('\0').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('renderCiasConf', () => {
  it('assigns exactly the variables of the architecture, each single-quoted, in its order', () => {
    const assignments = renderCiasConf(params)
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const line of assignments) expect(line).toMatch(/^CIAS_[A-Z_]+='[^']*'$/);
    expect(assignments.map((line) => line.slice(0, line.indexOf('=')))).toEqual(architectureVariables());
  });

  it('gives the SPEC defaults, as bash reads them', () => {
    const values = sourced(renderCiasConf(params), architectureVariables());
    expect(values).toEqual({
      CIAS_CLUSTER_NAME: 'DLLL-CIAS',
      CIAS_DOMAIN: 'example.com',
      CIAS_NODE_NAME: 'pve-master-rack-a-1-1',
      CIAS_NODE_FQDN: 'pve.master-rack.a.1-1.example.com',
      CIAS_NODE_IP: '10.254.1.1',
      CIAS_CAN_BE_MASTER: '1',
      CIAS_LAN_IF: 'vmbr0',
      CIAS_WAN_IF: 'vmbr1',
      CIAS_VIP: '10.254.0.254',
      CIAS_MASTER_EXT_IP: '192.168.56.101',
      CIAS_WAN_PREFIX: '24',
      CIAS_BOOTSTRAP_IP: '10.254.1.1',
      CIAS_GATEWAY_VMID: '100',
      CIAS_MFS_MOUNT: '/mnt/mfs',
      CIAS_SHARED_DIR: '/mnt/mfs/cias',
      CIAS_STATE_DIR: '/data/cias',
      CIAS_UPLINK_PROBE: '8.8.8.8',
      CIAS_SHUTDOWN_DELAY_MIN: '15',
      CIAS_DEAD_AFTER_MIN: '30',
      CIAS_NOTIFY_EMAIL: '',
      CIAS_STORAGE_VM: 'a_mfs',
      CIAS_STORAGE_BACKUP: 'mfs-backup',
      CIAS_LOCAL_GATEWAY_DUMP: '/var/lib/vz/dump/zentyal.tar.vma',
    });
  });

  it('takes every optional value', () => {
    const values = sourced(
      renderCiasConf({ ...params, canBeMaster: false, notifyEmail: 'ops@example.com', uplinkProbe: 'probe.example.net', shutdownDelayMinutes: 5, deadAfterMinutes: 60, gatewayVmid: 900 }),
      ['CIAS_CAN_BE_MASTER', 'CIAS_NOTIFY_EMAIL', 'CIAS_UPLINK_PROBE', 'CIAS_SHUTDOWN_DELAY_MIN', 'CIAS_DEAD_AFTER_MIN', 'CIAS_GATEWAY_VMID'],
    );
    expect(values).toEqual({
      CIAS_CAN_BE_MASTER: '0',
      CIAS_NOTIFY_EMAIL: 'ops@example.com',
      CIAS_UPLINK_PROBE: 'probe.example.net',
      CIAS_SHUTDOWN_DELAY_MIN: '5',
      CIAS_DEAD_AFTER_MIN: '60',
      CIAS_GATEWAY_VMID: '900',
    });
  });

  it('is accepted by the scripts\' own configuration check', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cias-conf-'));
    try {
      writeFileSync(join(dir, 'cias.conf'), renderCiasConf(params));
      const result = spawnSync('bash', ['-c', `source ${SCRIPTS_DIR}/common.sh; cias_load_config; echo "ok $CIAS_NODE_NAME"`], {
        encoding: 'utf8',
        // HOME: bash started over a socket pair reads ~/.bashrc; keep the test's own.
        env: { PATH: '/usr/bin:/bin', HOME: dir, CIAS_CONF: join(dir, 'cias.conf'), CIAS_LOG_FILE: '/dev/null' },
      });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('ok pve-master-rack-a-1-1\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists every invalid parameter at once', () => {
    expect(() =>
      renderCiasConf({ ...params, nodeIp: '10.254.1.300', nodeName: 'bad_name', wanPrefix: 33, storageVm: '9x', sharedDir: '/elsewhere/cias', notifyEmail: "o'neil@example.com", shutdownDelayMinutes: 0 }),
    ).toThrow(/nodeName "bad_name"[\s\S]*nodeIp "10.254.1.300"[\s\S]*wanPrefix 33[\s\S]*sharedDir \/elsewhere\/cias is not inside mfsMount[\s\S]*shutdownDelayMinutes 0[\s\S]*notifyEmail[\s\S]*storageVm "9x"/);
    expect(() => renderCiasConf({ ...params, vip: '10.254.1.1' })).toThrow("nodeIp 10.254.1.1 equals the VIP");
  });
});

describe('shellQuote', () => {
  it.each(["it's", '$HOME `id` "q"', 'a\nb', '', "''", '\\'])('bash reads %j back unchanged', (value) => {
    const result = spawnSync('bash', ['-c', `x=${shellQuote(value)}; printf '%s' "$x"`], { encoding: 'utf8' });
    expect(result.stdout).toBe(value);
  });
});

describe('renderNodesConf', () => {
  const nodes = [
    { ip: '10.254.1.1', name: 'pve-master-rack-a-1-1', fqdn: 'pve.master-rack.a.1-1.example.com', canBeMaster: true },
    { ip: '10.254.1.2', name: 'pve-small-rack-a-1-2', fqdn: 'pve.small-rack.a.1-2.example.com', canBeMaster: false },
  ];

  it('writes one line per node in the architecture format, read back by the scripts', () => {
    const text = renderNodesConf(nodes);
    expect(text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([
      '10.254.1.1 pve-master-rack-a-1-1 pve.master-rack.a.1-1.example.com 1',
      '10.254.1.2 pve-small-rack-a-1-2 pve.small-rack.a.1-2.example.com 0',
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'cias-nodes-'));
    try {
      writeFileSync(join(dir, 'nodes.conf'), text);
      const result = spawnSync('bash', ['-c', `source ${SCRIPTS_DIR}/common.sh; cias_nodes`], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin', CIAS_NODES_CONF: join(dir, 'nodes.conf'), CIAS_LOG_FILE: '/dev/null' },
      });
      expect(result.stdout).toBe(
        '10.254.1.1 pve-master-rack-a-1-1 pve.master-rack.a.1-1.example.com 1\n10.254.1.2 pve-small-rack-a-1-2 pve.small-rack.a.1-2.example.com 0\n',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects duplicates, bad addresses and an empty cluster', () => {
    expect(() => renderNodesConf([nodes[0], { ...nodes[1], ip: nodes[0].ip }])).toThrow('node ip 10.254.1.1 appears twice');
    expect(() => renderNodesConf([nodes[0], { ...nodes[1], name: nodes[0].name }])).toThrow('appears twice');
    expect(() => renderNodesConf([{ ...nodes[0], ip: 'x' }])).toThrow('is not an IPv4 address');
    expect(() => renderNodesConf([])).toThrow('at least one node');
  });
});

describe('renderDisksConf', () => {
  it('writes <device> <fs> <force>, completing bare names with /dev/', () => {
    const text = renderDisksConf([
      { device: 'sdb', filesystem: 'xfs', force: false },
      { device: '/dev/nvme1n1', filesystem: 'ext4', force: true },
    ]);
    expect(text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual(['/dev/sdb xfs 0', '/dev/nvme1n1 ext4 1']);
    expect(renderDisksConf([]).split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([]);
  });

  it('passes cias-prepare-disks\' own line check (the devices do not exist here, so they are refused one by one)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cias-disks-'));
    try {
      writeFileSync(join(dir, 'disks.conf'), renderDisksConf([{ device: 'cias-no-such-disk', filesystem: 'xfs', force: false }]));
      const result = spawnSync('bash', [join(SCRIPTS_DIR, 'cias-prepare-disks.sh')], {
        encoding: 'utf8',
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', CIAS_LIB: join(SCRIPTS_DIR, 'common.sh'), CIAS_DISKS_CONF: join(dir, 'disks.conf'), CIAS_FSTAB: join(dir, 'fstab'), CIAS_DATA_ROOT: join(dir, 'data'), CIAS_LOCK_DIR: join(dir, 'lock'), CIAS_LOG_FILE: '/dev/null' },
      });
      expect(result.stderr).toContain('/dev/cias-no-such-disk is not a block device');
      expect(result.status).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects other filesystems, paths and duplicates', () => {
    expect(() => renderDisksConf([{ device: 'sdb', filesystem: 'btrfs' as 'xfs', force: false }])).toThrow('is not xfs or ext4');
    expect(() => renderDisksConf([{ device: '/dev/../etc/passwd', filesystem: 'xfs', force: false }])).toThrow('is not a device name under /dev');
    expect(() => renderDisksConf([{ device: 'sdb', filesystem: 'xfs', force: false }, { device: '/dev/sdb', filesystem: 'ext4', force: false }])).toThrow('/dev/sdb appears twice');
  });
});
