import {
  DEFAULT_TRASH_TIME_SECONDS,
  MFS_CGISERV_PORT,
  mfsSetTrashTimeArgv,
  renderMfsChunkserverCfg,
  renderMfsExportsCfg,
  renderMfsHddCfg,
  renderMfsMasterCfg,
  renderMfsMetaloggerCfg,
  renderMfsMountFstabLine,
} from '../../render/moosefs';

/** `KEY = VALUE` settings of a MooseFS cfg file, comments dropped. */
function settings(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) result[match[1]] = match[2];
  }
  return result;
}

function dataLines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
}

describe('renderMfsMasterCfg', () => {
  it('uses /var/lib/mfs, the standard exports file and the mfs user by default', () => {
    expect(settings(renderMfsMasterCfg())).toEqual({
      WORKING_USER: 'mfs',
      WORKING_GROUP: 'mfs',
      DATA_PATH: '/var/lib/mfs',
      EXPORTS_FILENAME: '/etc/mfs/mfsexports.cfg',
      MATOML_LISTEN_PORT: '9419',
      MATOCS_LISTEN_PORT: '9420',
      MATOCL_LISTEN_PORT: '9421',
    });
  });

  it('takes other paths and rejects relative ones', () => {
    const s = settings(renderMfsMasterCfg({ dataPath: '/tmp/x/var', exportsPath: '/tmp/x/exports.cfg' }));
    expect(s.DATA_PATH).toBe('/tmp/x/var');
    expect(s.EXPORTS_FILENAME).toBe('/tmp/x/exports.cfg');
    expect(() => renderMfsMasterCfg({ dataPath: 'var/lib/mfs', exportsPath: '/etc/../x' })).toThrow(
      /dataPath "var\/lib\/mfs"[\s\S]*exportsPath "\/etc\/..\/x"/,
    );
  });

  it('shares DATA_PATH with the metalogger by default (failover restores from its files)', () => {
    expect(settings(renderMfsMasterCfg()).DATA_PATH).toBe(settings(renderMfsMetaloggerCfg({ nodeIp: '10.254.1.1' })).DATA_PATH);
  });
});

describe('renderMfsExportsCfg', () => {
  it('exports / and the meta filesystem read-write to 10.254.0.0/16 only, root not squashed', () => {
    expect(dataLines(renderMfsExportsCfg())).toEqual([
      '10.254.0.0/16\t/\trw,alldirs,maproot=0:0,maxtrashtime=3600',
      '10.254.0.0/16\t.\trw',
    ]);
    expect(renderMfsExportsCfg()).not.toMatch(/^\*/m);
  });

  it('uses a short trash time: 1 hour by default, configurable', () => {
    expect(DEFAULT_TRASH_TIME_SECONDS).toBe(3600);
    expect(dataLines(renderMfsExportsCfg({ trashTimeSeconds: 0 }))[0]).toMatch(/maxtrashtime=0$/);
    expect(() => renderMfsExportsCfg({ trashTimeSeconds: -1 })).toThrow(/trashTimeSeconds -1/);
    expect(() => renderMfsExportsCfg({ trashTimeSeconds: 1.5 })).toThrow(/trashTimeSeconds 1.5/);
  });

  it('sets the trash time on the mounted filesystem with mfssettrashtime -r', () => {
    expect(mfsSetTrashTimeArgv()).toEqual(['mfssettrashtime', '-r', '3600', '/mnt/mfs']);
    expect(mfsSetTrashTimeArgv({ mountPoint: '/tmp/m', trashTimeSeconds: 7200 })).toEqual(['mfssettrashtime', '-r', '7200', '/tmp/m']);
  });
});

describe('renderMfsMetaloggerCfg', () => {
  it('follows cias-pve-master on 9419 and binds to the node IP', () => {
    expect(settings(renderMfsMetaloggerCfg({ nodeIp: '10.254.1.7' }))).toEqual({
      WORKING_USER: 'mfs',
      WORKING_GROUP: 'mfs',
      DATA_PATH: '/var/lib/mfs',
      MASTER_HOST: 'cias-pve-master',
      MASTER_PORT: '9419',
      BIND_HOST: '10.254.1.7',
    });
  });

  it('rejects a loopback or missing node IP and a loopback master', () => {
    expect(() => renderMfsMetaloggerCfg({ nodeIp: '127.0.1.1', masterHost: '127.0.0.1' })).toThrow(
      /nodeIp 127.0.1.1 is not a node address[\s\S]*masterHost 127.0.0.1 is a loopback address/,
    );
    expect(() => renderMfsMetaloggerCfg({ nodeIp: '' })).toThrow(/nodeIp "" is not an IPv4 address/);
  });
});

describe('renderMfsChunkserverCfg', () => {
  it('serves to cias-pve-master on 9420 from the node IP, disks from mfshdd.cfg', () => {
    expect(settings(renderMfsChunkserverCfg({ nodeIp: '10.254.1.7' }))).toEqual({
      WORKING_USER: 'mfs',
      WORKING_GROUP: 'mfs',
      DATA_PATH: '/var/lib/mfs',
      HDD_CONF_FILENAME: '/etc/mfs/mfshdd.cfg',
      HDD_LEAVE_SPACE_DEFAULT: '5GiB',
      MASTER_HOST: 'cias-pve-master',
      MASTER_PORT: '9420',
      BIND_HOST: '10.254.1.7',
    });
  });

  it('accepts a master IP, rejects bad sizes and host names', () => {
    expect(settings(renderMfsChunkserverCfg({ nodeIp: '10.254.1.7', masterHost: '10.254.0.254' })).MASTER_HOST).toBe('10.254.0.254');
    expect(() => renderMfsChunkserverCfg({ nodeIp: '10.254.1.7', masterHost: 'bad host', hddLeaveSpace: '5 G' })).toThrow(
      /masterHost "bad host"[\s\S]*hddLeaveSpace "5 G"/,
    );
  });
});

describe('renderMfsHddCfg', () => {
  it('lists /data/<dev> for every listed disk, in order', () => {
    expect(dataLines(renderMfsHddCfg({ disks: ['sdb', 'sdc', 'nvme1n1'] }))).toEqual(['/data/sdb', '/data/sdc', '/data/nvme1n1']);
    expect(dataLines(renderMfsHddCfg({ disks: ['vdb'], diskRoot: '/tmp/t/data' }))).toEqual(['/tmp/t/data/vdb']);
  });

  it('says so when the node has no chunk disk', () => {
    const text = renderMfsHddCfg({ disks: [] });
    expect(dataLines(text)).toEqual([]);
    expect(text).toMatch(/mfschunkserver stays disabled/);
  });

  it('rejects partitions, /dev paths and duplicates', () => {
    expect(() => renderMfsHddCfg({ disks: ['sdb1', '/dev/sdc', 'sdd', 'sdd'] })).toThrow(
      /disk "sdb1"[\s\S]*disk "\/dev\/sdc"[\s\S]*disk sdd is listed twice/,
    );
  });
});

describe('renderMfsMountFstabLine', () => {
  it('mounts cias-pve-master at /mnt/mfs at boot, after the network, without waiting for the master', () => {
    expect(renderMfsMountFstabLine()).toBe('cias-pve-master:9421:/ /mnt/mfs moosefs defaults,_netdev,mfsdelayedinit 0 0\n');
  });

  it('takes another mount point, host and port', () => {
    expect(renderMfsMountFstabLine({ mountPoint: '/tmp/m', masterHost: '10.254.0.254', port: 19421 })).toBe(
      '10.254.0.254:19421:/ /tmp/m moosefs defaults,_netdev,mfsdelayedinit 0 0\n',
    );
    expect(() => renderMfsMountFstabLine({ port: 70000, mountPoint: 'mnt' })).toThrow(/port 70000[\s\S]*mountPoint "mnt"/);
  });
});

it('documents the mfscgiserv port', () => {
  expect(MFS_CGISERV_PORT).toBe(9425);
});
