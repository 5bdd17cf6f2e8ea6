import { spawn } from 'child_process';
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { renderDhcpdConfig, renderDhcpdHosts, renderDhcpdZentyalStub } from '../../render/gateway';
import { Netns, run, scratchDir, tenantVm, VM_10501 } from './gateway-fixtures';

const scratch = scratchDir('dhcp');
const netns = new Netns();
afterAll(() => {
  netns.removeAll();
  scratch.remove();
});

function writeConfig(name: string, hostsText: string, wan = true): string {
  const hostsFile = join(scratch.path, `${name}.hosts`);
  const confFile = join(scratch.path, `${name}.conf`);
  writeFileSync(hostsFile, hostsText);
  writeFileSync(
    confFile,
    renderDhcpdConfig({ hostsFile, sharedWanSubnet: wan ? { network: '192.168.56.0', prefix: 24 } : undefined }),
  );
  return confFile;
}

function dhcpdTest(confFile: string) {
  return run('dhcpd', ['-4', '-t', '-cf', confFile, '-lf', join(scratch.path, 'leases')]);
}

describe('dhcpd configuration', () => {
  it('has the temporary pool, the router and one host block per VM', () => {
    const conf = renderDhcpdConfig({});
    expect(conf).toContain('subnet 10.0.0.0 netmask 255.0.0.0 {');
    expect(conf).toContain('range 10.251.0.1 10.251.254.254;');
    expect(conf).toContain('option routers 10.0.0.254;');
    expect(conf).toContain('include "/etc/zentyal/dhcp/cias-hosts.conf";');
    const hosts = renderDhcpdHosts({ vms: [VM_10501] });
    expect(hosts).toContain(
      'host vm10501 { hardware ethernet 02:c1:a5:00:29:05; fixed-address 10.10.5.1; option host-name "vm10501"; }',
    );
  });

  it('is accepted by dhcpd -t, WAN subnet shared or not', () => {
    const hosts = renderDhcpdHosts({ vms: [tenantVm(101), VM_10501, tenantVm(250599)] });
    for (const wan of [true, false]) {
      const result = dhcpdTest(writeConfig(`good-${wan}`, hosts, wan));
      expect({ status: result.status, stderr: result.stderr }).toMatchObject({ status: 0 });
    }
  });

  it('is rejected by dhcpd -t when a host block is broken', () => {
    const hosts = renderDhcpdHosts({ vms: [VM_10501] }).replace('fixed-address 10.10.5.1;', 'fixed-address 10.10.5.1');
    const result = dhcpdTest(writeConfig('bad', hosts));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/semicolon expected/);
  });

  it('refuses two VMs on one MAC or one address', () => {
    expect(() => renderDhcpdHosts({ vms: [VM_10501, { ...tenantVm(102), mac: VM_10501.mac.toUpperCase() }] })).toThrow(/MAC/);
    expect(() => renderDhcpdHosts({ vms: [VM_10501, { ...tenantVm(102), internalIp: '10.10.5.1' }] })).toThrow(/10\.10\.5\.1/);
    expect(() => renderDhcpdConfig({ poolFirst: '11.0.0.1' })).toThrow(/outside/);
    expect(() => renderDhcpdConfig({ sharedWanSubnet: { network: '10.1.0.0', prefix: 16 } })).toThrow(/overlaps/);
  });

  it('the Zentyal stub is the same configuration with the pid file from Zentyal', () => {
    const stub = renderDhcpdZentyalStub({});
    const [head, body] = stub.split('</%args>\n');
    expect(head).toContain("$pidFile => '/var/run/dhcp-server/dhcpd.pid'");
    expect(body.replace('pid-file-name "<% $pidFile %>";\n', '')).toBe(renderDhcpdConfig({}));
    // Mason treats `%` at a line start and `<%`/`<&` anywhere as code: only the one pid line may use them.
    expect(body.split('\n').filter((l) => /^\s*%|<%|<&/.test(l))).toEqual(['pid-file-name "<% $pidFile %>";']);
  });

  it('dhcpd starts on one NIC carrying both the WAN and the LAN address', async () => {
    const ns = netns.create('dh');
    netns.mustExec(ns, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
    netns.mustExec(ns, 'ip', ['addr', 'add', '192.168.56.102/24', 'dev', 'eth0']);
    netns.mustExec(ns, 'ip', ['addr', 'add', '10.0.0.254/8', 'dev', 'eth0']);
    netns.mustExec(ns, 'ip', ['link', 'set', 'eth0', 'up']);
    netns.mustExec(ns, 'ip', ['link', 'set', 'peer0', 'up']);
    const conf = writeConfig('live', renderDhcpdHosts({ vms: [VM_10501] }));
    const leases = join(scratch.path, 'live.leases');
    writeFileSync(leases, '');
    const pidFile = join(scratch.path, 'live.pid');
    const child = spawn('ip', ['netns', 'exec', ns, 'dhcpd', '-4', '-f', '-d', '-cf', conf, '-lf', leases, '-pf', pidFile, 'eth0']);
    let log = '';
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    try {
      const deadline = Date.now() + 15000;
      while (!/Sending on\s+Socket/.test(log) && child.exitCode === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(log).toMatch(/Listening on LPF\/eth0/);
      expect(log).not.toMatch(/No subnet declaration/);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
    }
    expect(readFileSync(leases, 'utf8')).toContain('dhcpd');
  });

  it('scales to 124,245 reservations (SPEC §3 capacity) and dhcpd parses them', () => {
    const vms = [];
    for (let e = 0; e <= 250; e++) {
      for (let a = 1; a <= 5; a++) {
        for (let b = 1; b <= 99; b++) vms.push(tenantVm(e * 1000 + a * 100 + b));
      }
    }
    expect(vms).toHaveLength(124245);
    const started = process.hrtime.bigint();
    const hosts = renderDhcpdHosts({ vms });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`renderDhcpdHosts: 124,245 host blocks, ${(hosts.length / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms`);
    expect(hosts.split('\n').filter((l) => l.startsWith('host '))).toHaveLength(124245);
    expect(hosts).toContain('host vm250599 { hardware ethernet 02:c1:a5:03:d2:e7; fixed-address 10.250.5.99;');
    const result = dhcpdTest(writeConfig('scale', hosts));
    expect(result.status).toBe(0);
  });
});
