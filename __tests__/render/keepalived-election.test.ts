/**
 * Real VRRP between three keepalived processes on rendered configs, each node in its own network
 * namespace, joined by a bridge in a fourth ("switch") namespace. Checks what the renderer promises:
 * both VIPs move together, nopreempt keeps a master in place, failover on stop, a weak node never
 * takes the VIPs (not even when it is the last keepalived alive and has the highest priority), the
 * force-master file wins, and reloading the normal file afterwards keeps the VIPs where they are.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KeepalivedParams,
  KeepalivedPeer,
  renderKeepalivedConf,
  renderKeepalivedForceMasterConf,
} from '../../render/keepalived';
import { Daemon, holdsFor, Netns, waitFor } from '../helpers/netns';

const VIP = '10.254.0.254/8';
const EXTERNAL = '192.168.56.101/24';
/** advert_int 1: a backup declares the master dead after 3 adverts plus skew, well under 5 s. */
const ELECTION_MS = 10_000;
const MASTER_DOWN_MS = 4_500;

interface TestNode {
  readonly key: 'n1' | 'n2' | 'w';
  readonly params: KeepalivedParams;
  ns: Netns;
  dir: string;
  daemon?: Daemon;
}

describe('VRRP election on rendered configs (unicast + auth)', () => {
  let root: string;
  let sw: Netns;
  const peers: KeepalivedPeer[] = [
    { name: 'pve-a-1-1', ip: '10.254.1.1', canBeMaster: true },
    { name: 'pve-b-1-2', ip: '10.254.1.2', canBeMaster: true },
    { name: 'pve-small-1-3', ip: '10.254.1.3', canBeMaster: false },
  ];
  const common = {
    lanInterface: 'vmbr0',
    wanInterface: 'vmbr1',
    masterExternalIp: '192.168.56.101',
    wanPrefix: 24,
    authPassword: 'Cias2026',
    unicastPeers: peers,
  };
  const nodes: TestNode[] = [];

  function node(key: TestNode['key']): TestNode {
    const found = nodes.find((n) => n.key === key);
    if (!found) throw new Error(key);
    return found;
  }

  function holds(n: TestNode): { vip: boolean; external: boolean } {
    return { vip: n.ns.ipv4Addresses('vmbr0').includes(VIP), external: n.ns.ipv4Addresses('vmbr1').includes(EXTERNAL) };
  }

  /** In a settled state: both VIPs or neither (one alone is a failure). */
  function isMaster(n: TestNode): boolean {
    const h = holds(n);
    if (h.vip !== h.external) throw new Error(`${n.key} holds only one VIP: ${JSON.stringify(h)}`);
    return h.vip;
  }

  /**
   * For waiting on a change: keepalived adds (and removes) the two VIPs one after the other, so a probe
   * may see one alone in between; once the wait is over, isMaster checks the settled state.
   */
  function holdsBoth(n: TestNode): boolean {
    const h = holds(n);
    return h.vip && h.external;
  }

  function holdsNeither(n: TestNode): boolean {
    const h = holds(n);
    return !h.vip && !h.external;
  }

  function becameMasterCount(n: TestNode): number {
    const marker = join(n.dir, 'became-master');
    return existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean).length : 0;
  }

  function writeConf(n: TestNode, text: string): string {
    const file = join(n.dir, 'keepalived.conf');
    writeFileSync(file, text, { mode: 0o644 });
    return file;
  }

  function start(n: TestNode): void {
    const file = join(n.dir, 'keepalived.conf');
    const pid = (kind: string) => join(n.dir, `${kind}.pid`);
    n.daemon = n.ns.spawn(`keepalived ${n.key}`, [
      'keepalived', '-n', '-l', '-G', '-f', file,
      '-p', pid('main'), '-r', pid('vrrp'), '-c', pid('checkers'), '-b', pid('bfd'),
    ]);
  }

  async function stop(n: TestNode): Promise<void> {
    await n.daemon?.stop();
  }

  function logs(): string {
    return nodes.map((n) => `---- ${n.key}\n${n.daemon?.output ?? ''}`).join('\n');
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'cias-ka-election-'));
    sw = Netns.create(Netns.uniqueName('ka-', 'sw'));
    sw.addBridge('lan');
    const specs: Array<[TestNode['key'], string, number, boolean, number]> = [
      ['n1', 'pve-a-1-1', 80, true, 1],
      ['n2', 'pve-b-1-2', 50, true, 2],
      // Highest priority of all, yet never master.
      ['w', 'pve-small-1-3', 100, false, 3],
    ];
    for (const [key, nodeName, priority, canBeMaster, host] of specs) {
      const dir = join(root, key);
      mkdirSync(dir);
      // keepalived's script security wants a root-owned script in directories only root can write.
      const notify = join(dir, 'to-master.sh');
      writeFileSync(notify, `#!/bin/sh\ndate +%s.%N >> ${join(dir, 'became-master')}\n`);
      chmodSync(notify, 0o755);
      const ns = Netns.create(Netns.uniqueName('ka-', key));
      ns.addVeth('vmbr0', [`10.254.1.${host}/8`], sw, `port-${key}`, 'lan');
      ns.addBridge('vmbr1', [`192.168.56.${10 + host}/24`]);
      const params: KeepalivedParams = { ...common, nodeName, nodeIp: `10.254.1.${host}`, priority, canBeMaster, notifyMasterScript: notify };
      const n: TestNode = { key, params, ns, dir };
      nodes.push(n);
      writeConf(n, renderKeepalivedConf(params));
    }
  });

  afterAll(async () => {
    for (const n of nodes) await n.daemon?.stop().catch(() => undefined);
    for (const n of nodes) await n.ns.destroy();
    await sw?.destroy();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('the weak node and a normal node start: the normal node takes both VIPs and runs notify_master', async () => {
    start(node('w'));
    start(node('n2'));
    await waitFor('n2 to hold both VIPs', () => holdsBoth(node('n2')), ELECTION_MS).catch((e) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
    expect(isMaster(node('n2'))).toBe(true);
    await waitFor('notify_master on n2', () => becameMasterCount(node('n2')) === 1, 5_000);
    expect(isMaster(node('w'))).toBe(false);
  });

  it('a higher-priority node that joins later stays BACKUP (nopreempt): no needless failover', async () => {
    start(node('n1'));
    await waitFor('n1 in BACKUP', () => /\(VI_CIAS\) Entering BACKUP STATE/.test(node('n1').daemon!.output), 5_000);
    await holdsFor('n1 taking the VIPs from the lower-priority master', () => isMaster(node('n1')), MASTER_DOWN_MS);
    expect(isMaster(node('n2'))).toBe(true);
  });

  it('when the master stops, the best remaining master-capable node takes both VIPs', async () => {
    await stop(node('n2'));
    await waitFor('n1 to hold both VIPs', () => holdsBoth(node('n1')), ELECTION_MS);
    expect(isMaster(node('n1'))).toBe(true);
    expect(isMaster(node('n2'))).toBe(false);
    expect(becameMasterCount(node('n1'))).toBeGreaterThanOrEqual(1);
  });

  it('the weak node never takes the VIPs, even as the last keepalived running with the highest priority', async () => {
    await stop(node('n1'));
    await holdsFor('the weak node holding a VIP', () => isMaster(node('w')), MASTER_DOWN_MS + 1_000);
    expect(node('w').daemon!.running).toBe(true);
    expect(node('w').daemon!.output).toMatch(/no configuration to run/);
    expect(becameMasterCount(node('w'))).toBe(0);
  });

  it('manual switch: the force-master file wins over the current master, notify_master runs', async () => {
    start(node('n1'));
    await waitFor('n1 master again', () => holdsBoth(node('n1')), ELECTION_MS);
    expect(isMaster(node('n1'))).toBe(true);
    start(node('n2'));
    await waitFor('n2 in BACKUP', () => /\(VI_CIAS\) Entering BACKUP STATE/.test(node('n2').daemon!.output), 5_000);
    const before = becameMasterCount(node('n2'));

    await stop(node('n2'));
    writeConf(node('n2'), renderKeepalivedForceMasterConf(node('n2').params));
    start(node('n2'));
    await waitFor('n2 (forced) to hold both VIPs', () => holdsBoth(node('n2')), ELECTION_MS);
    await waitFor('n1 to release the VIPs', () => holdsNeither(node('n1')), 5_000);
    expect(isMaster(node('n2'))).toBe(true);
    expect(isMaster(node('n1'))).toBe(false);
    await waitFor('notify_master on n2', () => becameMasterCount(node('n2')) === before + 1, 5_000);
  });

  it('reloading the normal file keeps the VIPs on the switched node (the others are nopreempt)', async () => {
    writeConf(node('n2'), renderKeepalivedConf(node('n2').params));
    node('n2').daemon!.signal('SIGHUP');
    await waitFor('n2 to reload', () => /Reload complete/.test(node('n2').daemon!.output), 5_000);
    await holdsFor('n2 losing the VIPs after the reload', () => !isMaster(node('n2')), MASTER_DOWN_MS);
    expect(isMaster(node('n1'))).toBe(false);
    expect(isMaster(node('w'))).toBe(false);
  });
});
