import {
  findHostsConflicts,
  HostsBlockParams,
  HOSTS_BLOCK_BEGIN,
  HOSTS_BLOCK_END,
  mergeHostsBlock,
  renderHostsBlock,
} from '../../render/hosts';
import { run } from '../helpers/netns';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const params: HostsBlockParams = {
  nodeIp: '10.254.1.1',
  fqdn: 'pve.master-rack.a.1-1.example.com',
  nodeName: 'pve-master-rack-a-1-1',
};
const block = renderHostsBlock(params);

const debianHosts = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
ff02::1\tip6-allnodes
`;

describe('renderHostsBlock', () => {
  it('names the master VIP cias-pve-master and maps the node FQDN and Proxmox name to its IP', () => {
    const lines = block.split('\n');
    expect(lines[0]).toBe(HOSTS_BLOCK_BEGIN);
    expect(lines).toContain('10.254.0.254 cias-pve-master');
    expect(lines).toContain('10.254.1.1 pve.master-rack.a.1-1.example.com pve-master-rack-a-1-1');
    expect(lines[lines.length - 2]).toBe(HOSTS_BLOCK_END);
    expect(block.endsWith('\n')).toBe(true);
  });

  it('takes another VIP and master name', () => {
    const custom = renderHostsBlock({ ...params, vip: '10.254.0.253', masterHostName: 'mfsmaster' });
    expect(custom.split('\n')).toContain('10.254.0.253 mfsmaster');
  });

  it('lists every problem', () => {
    expect(() => renderHostsBlock({ nodeIp: '10.254.0.254', fqdn: 'pve', nodeName: 'a.b', vip: '10.254.0.254' })).toThrow(
      /nodeIp 10.254.0.254 equals the master VIP[\s\S]*fqdn "pve" is not a fully qualified[\s\S]*nodeName "a.b"/,
    );
    expect(() => renderHostsBlock({ ...params, nodeIp: '10.254.1' })).toThrow(/nodeIp "10.254.1" is not an IPv4/);
  });
});

describe('mergeHostsBlock', () => {
  it('appends the block and keeps every other line byte for byte', () => {
    const merged = mergeHostsBlock(debianHosts, block);
    expect(merged).toBe(debianHosts + block);
  });

  it('adds the missing final newline before appending, and handles an empty file', () => {
    expect(mergeHostsBlock('127.0.0.1 localhost', block)).toBe(`127.0.0.1 localhost\n${block}`);
    expect(mergeHostsBlock('', block)).toBe(block);
  });

  it('is idempotent', () => {
    const once = mergeHostsBlock(debianHosts, block);
    expect(mergeHostsBlock(once, block)).toBe(once);
  });

  it('replaces an existing block in place, leaving lines before and after alone', () => {
    const old = renderHostsBlock({ ...params, nodeIp: '10.254.1.9' });
    const text = `${debianHosts}${old}192.168.56.5 nas-admin\n`;
    const merged = mergeHostsBlock(text, block);
    expect(merged).toBe(`${debianHosts}${block}192.168.56.5 nas-admin\n`);
    expect(merged).not.toMatch(/10\.254\.1\.9/);
  });

  it('keeps only one block when a file has several', () => {
    const text = `${block}# keep me\n${block}`;
    expect(mergeHostsBlock(text, block)).toBe(`${block}# keep me\n`);
  });

  it('refuses half blocks and foreign blocks instead of guessing', () => {
    expect(() => mergeHostsBlock(`${debianHosts}${HOSTS_BLOCK_BEGIN}\n1.2.3.4 x\n`, block)).toThrow(/never closed/);
    expect(() => mergeHostsBlock(`${HOSTS_BLOCK_END}\n`, block)).toThrow(/without a/);
    expect(() => mergeHostsBlock(debianHosts, '10.0.0.1 x\n')).toThrow(/one cias block/);
  });
});

describe('findHostsConflicts', () => {
  it("reports Debian's 127.0.1.1 line for the node name, which would shadow the block", () => {
    const text = mergeHostsBlock(`${debianHosts}127.0.1.1\tpve-master-rack-a-1-1\n`, block);
    expect(findHostsConflicts(text, block)).toEqual([
      'line 4: pve-master-rack-a-1-1 -> 127.0.1.1, but the cias block says 10.254.1.1',
    ]);
  });

  it('accepts the Proxmox installer line that agrees with the block', () => {
    const text = mergeHostsBlock(`${debianHosts}10.254.1.1 pve.master-rack.a.1-1.example.com pve-master-rack-a-1-1\n`, block);
    expect(findHostsConflicts(text, block)).toEqual([]);
  });
});

describe('glibc resolves the merged file', () => {
  it('getent finds cias-pve-master and the node names through a private /etc/hosts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cias-hosts-'));
    try {
      const file = join(dir, 'hosts');
      writeFileSync(file, mergeHostsBlock(debianHosts, block));
      const result = run([
        'unshare', '--mount', '--propagation', 'private', 'sh', '-c',
        'mount --bind "$0" /etc/hosts && getent hosts cias-pve-master pve-master-rack-a-1-1 pve.master-rack.a.1-1.example.com',
        file,
      ]);
      expect(result.status).toBe(0);
      expect(result.stdout.split('\n').filter(Boolean).map((line) => line.split(/\s+/)[0])).toEqual([
        '10.254.0.254',
        '10.254.1.1',
        '10.254.1.1',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
