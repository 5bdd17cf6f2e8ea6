import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_NOTIFY_MASTER_SCRIPT,
  FORCE_MASTER_VRRP_PRIORITY,
  KeepalivedParams,
  KeepalivedPeer,
  renderKeepalivedConf,
  renderKeepalivedForceMasterConf,
  vrrpPriority,
} from '../../render/keepalived';
import { Netns } from '../helpers/netns';

const base: KeepalivedParams = {
  nodeName: 'pve-master-rack-a-1-1',
  nodeIp: '10.254.1.1',
  priority: 80,
  canBeMaster: true,
  lanInterface: 'vmbr0',
  wanInterface: 'vmbr1',
  masterExternalIp: '192.168.56.101',
  wanPrefix: 24,
};

const cluster: readonly KeepalivedPeer[] = [
  { name: 'pve-master-rack-a-1-1', ip: '10.254.1.1', canBeMaster: true },
  { name: 'pve-master-rack-b-1-2', ip: '10.254.1.2', canBeMaster: true },
  { name: 'pve-small-rack-c-1-3', ip: '10.254.1.3', canBeMaster: false },
  { name: 'pve-master-rack-d-2-4', ip: '10.254.2.4', canBeMaster: true },
];

/** Config lines without comments and blank lines, trimmed. */
function directives(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** The directives inside `name { … }`, nested blocks included. */
function block(text: string, name: string): string[] {
  const lines = directives(text);
  const start = lines.indexOf(`${name} {`);
  if (start < 0) return [];
  let depth = 1;
  for (let i = start + 1; i < lines.length; i++) {
    if (lines[i].endsWith('{')) depth++;
    if (lines[i] === '}' && --depth === 0) return lines.slice(start + 1, i);
  }
  throw new Error(`unterminated block ${name}`);
}

describe('priority mapping', () => {
  it('maps cluster priority p to VRRP 100 + p, keeping the order', () => {
    expect(vrrpPriority(0)).toBe(100);
    expect(vrrpPriority(50)).toBe(150);
    expect(vrrpPriority(100)).toBe(200);
    for (let p = 0; p < 100; p++) expect(vrrpPriority(p + 1)).toBeGreaterThan(vrrpPriority(p));
  });

  it('never produces 0 (resign) or 255 (address owner), and leaves 254 above every node', () => {
    for (let p = 0; p <= 100; p++) {
      expect(vrrpPriority(p)).toBeGreaterThanOrEqual(1);
      expect(vrrpPriority(p)).toBeLessThan(FORCE_MASTER_VRRP_PRIORITY);
    }
    expect(FORCE_MASTER_VRRP_PRIORITY).toBe(254);
  });

  it('rejects priorities outside 0..100 and fractions', () => {
    for (const bad of [-1, 101, 999, 2.5, Number.NaN]) expect(() => vrrpPriority(bad)).toThrow(/0\.\.100/);
  });
});

describe('renderKeepalivedConf (master-capable node)', () => {
  const text = renderKeepalivedConf(base);
  const instance = block(text, 'vrrp_instance VI_CIAS');

  it('sets global_defs for script security with root as script user', () => {
    expect(block(text, 'global_defs')).toEqual(['router_id pve-master-rack-a-1-1', 'enable_script_security', 'script_user root']);
    expect(text).not.toMatch(/vrrp_strict/);
  });

  it('renders exactly one BACKUP instance with the mapped priority, default VRID, advert_int and nopreempt', () => {
    expect(text.match(/vrrp_instance/g)).toHaveLength(1);
    expect(instance).toEqual(
      expect.arrayContaining(['state BACKUP', 'interface vmbr0', 'virtual_router_id 51', 'priority 180', 'advert_int 1', 'nopreempt']),
    );
    expect(text).not.toMatch(/state MASTER/);
  });

  it('holds both VIPs in the same instance, each on its own device', () => {
    expect(block(text, 'virtual_ipaddress')).toEqual(['10.254.0.254/8 dev vmbr0', '192.168.56.101/24 dev vmbr1']);
  });

  it('runs keepalived_to_master.sh on becoming master, path overridable', () => {
    expect(instance).toContain(`notify_master ${DEFAULT_NOTIFY_MASTER_SCRIPT}`);
    expect(DEFAULT_NOTIFY_MASTER_SCRIPT).toBe('/usr/local/sbin/keepalived_to_master.sh');
    const custom = renderKeepalivedConf({ ...base, notifyMasterScript: '/opt/cias/failover.sh' });
    expect(block(custom, 'vrrp_instance VI_CIAS')).toContain('notify_master /opt/cias/failover.sh');
  });

  it('uses multicast and no authentication by default', () => {
    expect(text).not.toMatch(/unicast/);
    expect(text).not.toMatch(/authentication/);
  });

  it('honours vip, prefixes, VRID, advert interval and nopreempt=false', () => {
    const custom = renderKeepalivedConf({
      ...base,
      vip: '10.254.0.253',
      vipPrefix: 16,
      wanPrefix: 28,
      virtualRouterId: 77,
      advertIntervalSeconds: 3,
      nopreempt: false,
    });
    expect(block(custom, 'virtual_ipaddress')).toEqual(['10.254.0.253/16 dev vmbr0', '192.168.56.101/28 dev vmbr1']);
    const lines = block(custom, 'vrrp_instance VI_CIAS');
    expect(lines).toEqual(expect.arrayContaining(['virtual_router_id 77', 'advert_int 3']));
    expect(lines).not.toContain('nopreempt');
  });
});

describe('unicast and authentication', () => {
  const text = renderKeepalivedConf({ ...base, unicastPeers: cluster, authPassword: 's3cret12' });

  it('sends from the node IP to the other master-capable nodes only (not itself, not weak nodes)', () => {
    expect(block(text, 'vrrp_instance VI_CIAS')).toContain('unicast_src_ip 10.254.1.1');
    expect(block(text, 'unicast_peer')).toEqual(['10.254.1.2', '10.254.2.4']);
  });

  it('lists each peer once', () => {
    const twice = renderKeepalivedConf({ ...base, unicastPeers: [...cluster, cluster[1]] });
    expect(block(twice, 'unicast_peer')).toEqual(['10.254.1.2', '10.254.2.4']);
  });

  it('falls back to multicast when no other node can be master (keepalived rejects an empty peer block)', () => {
    const alone = renderKeepalivedConf({ ...base, unicastPeers: [cluster[0], cluster[2]] });
    expect(directives(alone).join('\n')).not.toMatch(/unicast/);
  });

  it('adds PASS authentication', () => {
    expect(block(text, 'authentication')).toEqual(['auth_type PASS', 'auth_pass s3cret12']);
  });

  it('rejects passwords keepalived would truncate or misparse', () => {
    expect(() => renderKeepalivedConf({ ...base, authPassword: '123456789' })).toThrow(/9 characters; VRRP PASS uses 1\.\.8/);
    expect(() => renderKeepalivedConf({ ...base, authPassword: '' })).toThrow(/0 characters/);
    expect(() => renderKeepalivedConf({ ...base, authPassword: 'a b#' })).toThrow(/may only contain/);
  });
});

describe('demotion', () => {
  it('runs keepalived_to_backup.sh on BACKUP and FAULT, in the normal and the force-master file', () => {
    for (const text of [renderKeepalivedConf(base), renderKeepalivedForceMasterConf(base)]) {
      const instance = block(text, 'vrrp_instance VI_CIAS');
      expect(instance).toEqual(expect.arrayContaining(['notify_backup /usr/local/sbin/keepalived_to_backup.sh', 'notify_fault /usr/local/sbin/keepalived_to_backup.sh']));
    }
  });
});

describe('routes from the VIP', () => {
  it('sends traffic for the gateway from 10.254.0.254 while this node is master', () => {
    const text = renderKeepalivedConf({ ...base, routeFromVip: ['10.0.0.254'] });
    expect(block(text, 'virtual_routes')).toEqual(['src 10.254.0.254 to 10.0.0.254/32 dev vmbr0']);
    expect(renderKeepalivedConf(base)).not.toContain('virtual_routes');
    expect(() => renderKeepalivedConf({ ...base, routeFromVip: ['gateway'] })).toThrow(/routeFromVip entry "gateway"/);
  });
});

describe('weak node (below the hardware minimum)', () => {
  const weak: KeepalivedParams = { ...base, nodeName: 'pve-small-rack-c-1-3', nodeIp: '10.254.1.3', canBeMaster: false };
  const text = renderKeepalivedConf(weak);

  it('has no VRRP instance and no virtual address at all, so it can never hold the VIPs', () => {
    expect(directives(text).join('\n')).not.toMatch(/vrrp_instance|virtual_ipaddress|priority|notify_master/);
    expect(directives(text)).toEqual(['global_defs {', 'router_id pve-small-rack-c-1-3', 'enable_script_security', 'script_user root', '}']);
  });

  it('says why in the file', () => {
    expect(text).toMatch(/below the hardware minimum/);
  });

  it('cannot be forced to master', () => {
    expect(() => renderKeepalivedForceMasterConf(weak)).toThrow(/pve-small-rack-c-1-3.*can never be forced to master/);
  });
});

describe('renderKeepalivedForceMasterConf', () => {
  const params: KeepalivedParams = { ...base, priority: 100, unicastPeers: cluster, authPassword: 's3cret12', virtualRouterId: 42 };
  const normal = renderKeepalivedConf(params);
  const forced = renderKeepalivedForceMasterConf(params);

  it('uses 254: legal for a BACKUP instance and above every normal priority', () => {
    const instance = block(forced, 'vrrp_instance VI_CIAS');
    expect(instance).toContain('priority 254');
    expect(instance).toContain('state BACKUP');
    expect(FORCE_MASTER_VRRP_PRIORITY).toBeGreaterThan(vrrpPriority(100));
    expect(forced).not.toMatch(/priority (255|999)/);
  });

  it('preempts (no nopreempt) so it takes over from the current master', () => {
    expect(block(forced, 'vrrp_instance VI_CIAS')).not.toContain('nopreempt');
  });

  it('is otherwise identical to the normal file: same VRID, auth, peers, VIPs, notify script', () => {
    const comparable = (text: string) => directives(text).filter((line) => !/^priority |^nopreempt$/.test(line));
    expect(comparable(forced)).toEqual(comparable(normal));
    expect(block(forced, 'unicast_peer')).toEqual(['10.254.1.2', '10.254.2.4']);
  });
});

describe('validation', () => {
  it('lists every problem in one error', () => {
    let message = '';
    try {
      renderKeepalivedConf({
        ...base,
        nodeIp: '10.254.1.300',
        priority: 101,
        lanInterface: 'eth 0',
        wanInterface: 'lo',
        masterExternalIp: '10.254.0.254',
        wanPrefix: 33,
        virtualRouterId: 256,
        advertIntervalSeconds: 0.5,
        notifyMasterScript: 'keepalived_to_master.sh',
        unicastPeers: [{ name: 'broken', ip: 'nope', canBeMaster: true }],
      });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const expected of [
      'invalid keepalived parameters for node pve-master-rack-a-1-1',
      'nodeIp "10.254.1.300" is not an IPv4 address',
      'masterExternalIp 10.254.0.254 equals the internal VIP',
      'priority 101 is not an integer in 0..100',
      'lanInterface "eth 0"',
      'wanInterface "lo"',
      'wanPrefix 33',
      'virtualRouterId 256',
      'advertIntervalSeconds 0.5',
      'notifyMasterScript "keepalived_to_master.sh"',
      'unicast peer broken: ip "nope"',
    ]) {
      expect(message).toContain(expected);
    }
  });

  it('rejects a node name that is not a host name and interface names longer than 15 bytes', () => {
    expect(() => renderKeepalivedConf({ ...base, nodeName: 'bad name' })).toThrow(/nodeName "bad name"/);
    expect(() => renderKeepalivedConf({ ...base, lanInterface: 'abcdefghijklmnop' })).toThrow(/lanInterface/);
  });
});

/** keepalived itself reads every variant, inside a namespace that has the interfaces the files name. */
describe('keepalived -t -e -f accepts every rendered variant', () => {
  let ns: Netns;
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cias-ka-check-'));
    ns = Netns.create(Netns.uniqueName('ka-', 'check'));
    ns.addBridge('vmbr0', ['10.254.1.1/8']);
    ns.addBridge('vmbr1', ['192.168.56.11/24']);
  });

  afterAll(async () => {
    await ns?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function check(name: string, text: string) {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, text);
    return ns.exec(['keepalived', '-t', '-e', '-f', file]);
  }

  const variants: Record<string, string> = {
    'multicast, LAN and WAN on one bridge': renderKeepalivedConf({ ...base, wanInterface: 'vmbr0' }),
    'multicast, separate WAN bridge': renderKeepalivedConf(base),
    'unicast + auth': renderKeepalivedConf({ ...base, unicastPeers: cluster, authPassword: 's3cret12' }),
    'auth only (multicast)': renderKeepalivedConf({ ...base, authPassword: 'abc' }),
    'unicast without master-capable peers': renderKeepalivedConf({ ...base, unicastPeers: [cluster[2]] }),
    'custom VRID/advert/vip, preemptive': renderKeepalivedConf({
      ...base,
      virtualRouterId: 200,
      advertIntervalSeconds: 2,
      vip: '10.254.0.253',
      vipPrefix: 16,
      nopreempt: false,
    }),
    'weak node': renderKeepalivedConf({ ...base, canBeMaster: false }),
    'route to the gateway from the VIP': renderKeepalivedConf({ ...base, routeFromVip: ['10.0.0.254'] }),
    'force master, multicast': renderKeepalivedForceMasterConf(base),
    'force master, unicast + auth': renderKeepalivedForceMasterConf({ ...base, unicastPeers: cluster, authPassword: 's3cret12' }),
  };

  it.each(Object.entries(variants))('%s', (name, text) => {
    const result = check(name.replace(/\W+/g, '-'), text);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('rejects a file naming an interface the host does not have (so the check can fail)', () => {
    const result = check('missing-interface', renderKeepalivedConf({ ...base, wanInterface: 'vmbr9' }));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/vmbr9/);
  });

  it('rejects a corrupted file: out-of-range VRID and an unknown keyword', () => {
    const corrupted = renderKeepalivedConf(base).replace('virtual_router_id 51', 'virtual_router_id 300\n    prioriti 5');
    const result = check('corrupted', corrupted);
    expect(result.status).toBe(5);
    expect(result.stderr).toMatch(/VRID '300' not valid/);
    expect(result.stderr).toMatch(/Unknown keyword 'prioriti'/);
  });

  it('rejects the seed\'s priority 999', () => {
    const seed = renderKeepalivedForceMasterConf(base).replace('    priority 254', '    priority 999');
    const result = check('seed-999', seed);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/999/);
  });
});
