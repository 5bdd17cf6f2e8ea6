import { ChildProcess, spawn } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { FirewallParams, renderFirewall, vmChainName } from '../../render/gateway';
import { Netns, scratchDir, tenantVm, VM_10501 } from './gateway-fixtures';

const ASSETS = join(__dirname, '../../render/gateway/assets');
const scratch = scratchDir('fw');
const netns = new Netns();
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  netns.removeAll();
  scratch.remove();
});

const base: FirewallParams = {
  proxmoxManagementIp: '192.168.56.102',
  nasManagementIp: '192.168.56.103',
  nas: [
    {
      hostname: 'nas.rack-b.a.1-1.example.com',
      ip: '10.253.1.1',
      managementForwards: [{ externalPort: 2049, internalPort: 2049, protocol: 'tcp' }],
    },
  ],
  vms: [tenantVm(101), VM_10501],
};

function ruleLines(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('-A '));
}

describe('gateway firewall rules', () => {
  it('forwards VM 10501 ports 50100-50199 on the 11th VM-management IP to 10.10.5.1, default rule plus overrides', () => {
    const rules = ruleLines(renderFirewall(base).hookRules);
    expect(rules).toContain('-A CIAS-PREROUTING -d 192.168.56.114/32 -j CIAS-VM-E10');
    expect(rules.filter((r) => r.startsWith('-A CIAS-VM-E10 '))).toEqual([
      // override 50100 → 8443
      '-A CIAS-VM-E10 -d 192.168.56.114/32 -p tcp -m tcp --dport 50100 -j DNAT --to-destination 10.10.5.1:8443',
      // default: 50101..50121 → 1..21
      '-A CIAS-VM-E10 -d 192.168.56.114/32 -p tcp -m tcp --dport 50101:50121 -j DNAT --to-destination 10.10.5.1:1-21/50101',
      // override 50122 → 2222
      '-A CIAS-VM-E10 -d 192.168.56.114/32 -p tcp -m tcp --dport 50122 -j DNAT --to-destination 10.10.5.1:2222',
      // default: 50123..50199 → 23..99, so 50180 → 80
      '-A CIAS-VM-E10 -d 192.168.56.114/32 -p tcp -m tcp --dport 50123:50199 -j DNAT --to-destination 10.10.5.1:23-99/50123',
      '-A CIAS-VM-E10 -d 192.168.56.114/32 -p udp -m udp --dport 50101:50199 -j DNAT --to-destination 10.10.5.1:1-99/50101',
    ]);
  });

  it('writes one rule per port when shifted ranges are off, with the same mapping', () => {
    const render = renderFirewall({ ...base, vms: [VM_10501], shiftedPortRanges: false });
    const vmRules = ruleLines(render.hookRules).filter((r) => r.startsWith('-A CIAS-VM-E10 '));
    expect(vmRules).toHaveLength(100 + 99);
    expect(vmRules).toContain('-A CIAS-VM-E10 -d 192.168.56.114/32 -p tcp -m tcp --dport 50122 -j DNAT --to-destination 10.10.5.1:2222');
    expect(vmRules).toContain('-A CIAS-VM-E10 -d 192.168.56.114/32 -p tcp -m tcp --dport 50180 -j DNAT --to-destination 10.10.5.1:80');
    expect(vmRules).toContain('-A CIAS-VM-E10 -d 192.168.56.114/32 -p udp -m udp --dport 50122 -j DNAT --to-destination 10.10.5.1:22');
    expect(render.dnatRuleCount).toBe(199 + 2); // + Proxmox UI + one NAS forward
  });

  it('renders the largest cluster (124,245 VMs, default rule on tcp and udp): one DNAT rule per VM and protocol', () => {
    const vms = [];
    for (let e = 0; e <= 250; e++) {
      for (let a = 1; a <= 5; a++) for (let b = 1; b <= 99; b++) vms.push(tenantVm(e * 1000 + a * 100 + b, [], 0));
    }
    const started = process.hrtime.bigint();
    const render = renderFirewall({ ...base, proxmoxManagementIp: '203.0.113.2', nasManagementIp: '203.0.113.3', vms });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`renderFirewall: ${vms.length} VMs → ${render.dnatRuleCount} DNAT rules, ${(render.hookRules.length / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms`);
    expect(render.dnatRuleCount).toBe(124245 * 2 + 2);
    expect(render.chains.nat).toHaveLength(2 + 251);
  });

  it('accepts SSH to the gateway only from 10.254.0.254', () => {
    const ssh = ruleLines(renderFirewall(base).hookRules).filter((r) => r.includes('--dport 22 '));
    expect(ssh).toEqual([
      '-A CIAS-INPUT -s 10.254.0.254/32 -p tcp -m tcp --dport 22 -j ACCEPT',
      '-A CIAS-INPUT -p tcp -m tcp --dport 22 -j DROP',
    ]);
  });

  it('forwards the Proxmox UI and the NAS, masquerades the LAN out of the WAN', () => {
    const rules = ruleLines(renderFirewall(base).hookRules);
    expect(rules).toContain(
      '-A CIAS-PREROUTING -d 192.168.56.102/32 -p tcp -m tcp --dport 8006 -j DNAT --to-destination 10.254.0.254:8006',
    );
    expect(rules).toContain(
      '-A CIAS-PREROUTING -d 192.168.56.103/32 -p tcp -m tcp --dport 2049 -j DNAT --to-destination 10.253.1.1:2049',
    );
    expect(rules).toContain('-A CIAS-POSTROUTING -s 10.0.0.0/8 ! -d 10.0.0.0/8 -o eth0 -j MASQUERADE');
    expect(rules).toContain('-A CIAS-POSTROUTING -d 10.254.0.254/32 -m conntrack --ctstate DNAT -j SNAT --to-source 10.0.0.254');
  });

  it('refuses forwards outside the VM block, twice-forwarded ports and mismatched identities', () => {
    const outside = { ...VM_10501, portForwards: [{ externalPort: 50200, internalPort: 22, protocol: 'tcp' as const }] };
    expect(() => renderFirewall({ ...base, vms: [outside] })).toThrow(/outside its block 50100-50199/);
    const twice = { ...VM_10501, portForwards: [...VM_10501.portForwards, VM_10501.portForwards[0]] };
    expect(() => renderFirewall({ ...base, vms: [twice] })).toThrow(/forwarded twice/);
    expect(() => renderFirewall({ ...base, vms: [{ ...VM_10501, internalIp: '10.10.5.2' }] })).toThrow(/VMID says 10.10.5.1/);
    expect(() => renderFirewall({ ...base, vms: [{ ...VM_10501, externalIp: '192.168.56.102' }] })).toThrow(/already used/);
    const proxyPort = { ...base.nas![0], managementForwards: [{ externalPort: 80, internalPort: 80, protocol: 'tcp' as const }] };
    expect(() => renderFirewall({ ...base, nas: [proxyPort] })).toThrow(/reverse proxy/);
  });

  it('iptables-restore --test accepts the full ruleset and rejects a broken one', () => {
    const ns = netns.create('ft');
    const render = renderFirewall(base);
    expect(netns.exec(ns, 'iptables-restore', ['--test'], { input: render.fullRuleset }).status).toBe(0);
    const badPort = render.fullRuleset.replace('--dport 50123:50199', '--dport 50123:70000');
    const parse = netns.exec(ns, 'iptables-restore', ['--test'], { input: badPort });
    expect(parse.status).not.toBe(0);
    expect(parse.stderr).toMatch(/70000/);
    // With the nf_tables backend --test only parses; the kernel checks targets on a real load, which
    // is atomic: DNAT outside the nat table is refused and nothing of the file is applied.
    const badTarget = render.fullRuleset.replace(
      '-A CIAS-INPUT -p tcp -m tcp --dport 22 -j DROP',
      '-A CIAS-INPUT -p tcp -m tcp --dport 22 -j DNAT --to-destination 10.0.0.1',
    );
    expect(netns.exec(ns, 'iptables-restore', [], { input: badTarget }).status).not.toBe(0);
    expect(netns.mustExec(ns, 'iptables', ['-S'])).not.toContain('CIAS-INPUT');
  });

  it('the kernel holds exactly the rendered rules (iptables-save round trip)', () => {
    const ns = netns.create('fr');
    const render = renderFirewall(base);
    netns.mustExec(ns, 'iptables-restore', [], { input: render.fullRuleset });
    const saved = [...netns.mustExec(ns, 'iptables-save', ['-t', 'nat']).split('\n'), ...netns.mustExec(ns, 'iptables-save', ['-t', 'filter']).split('\n')];
    const savedRules = saved.filter((l) => l.startsWith('-A '));
    expect(savedRules.sort()).toEqual(ruleLines(render.fullRuleset).sort());
  });

  it('the firewall hook script loads the chains, links them once and drops stale ones', () => {
    const ns = netns.create('fh');
    const etc = join(scratch.path, 'hook-etc');
    mkdirSync(etc, { recursive: true });
    const env = {
      ...process.env,
      CIAS_GATEWAY_LIB: ASSETS,
      CIAS_GATEWAY_ETC: etc,
      CIAS_LOG_FILE: join(scratch.path, 'cias.log'),
      CIAS_LOCK_DIR: scratch.path,
    };
    // Zentyal's own rules stand in the built-in chains before the hook runs.
    netns.mustExec(ns, 'iptables', ['-A', 'INPUT', '-p', 'tcp', '--dport', '8443', '-j', 'ACCEPT']);
    const withTwoIps = renderFirewall({ ...base, vms: [tenantVm(101), VM_10501] });
    writeFileSync(join(etc, 'iptables-cias.rules'), withTwoIps.hookRules);
    for (let i = 0; i < 2; i++) netns.mustExec(ns, join(ASSETS, 'apply-firewall.sh'), [], { env });
    const nat = netns.mustExec(ns, 'iptables', ['-t', 'nat', '-S']);
    const filter = netns.mustExec(ns, 'iptables', ['-S']);
    expect(nat.split('\n').filter((l) => l === '-A PREROUTING -j CIAS-PREROUTING')).toHaveLength(1);
    expect(filter.split('\n').filter((l) => l.startsWith('-A INPUT'))[0]).toBe('-A INPUT -j CIAS-INPUT');
    expect(nat).toContain(`-N ${vmChainName(0)}`);
    expect(netns.mustExec(ns, 'sysctl', ['-n', 'net.ipv4.ip_forward']).trim()).toBe('1');

    writeFileSync(join(etc, 'iptables-cias.rules'), renderFirewall({ ...base, vms: [VM_10501] }).hookRules);
    netns.mustExec(ns, join(ASSETS, 'apply-firewall.sh'), [], { env });
    const after = netns.mustExec(ns, 'iptables', ['-t', 'nat', '-S']);
    expect(after).not.toContain(`-N ${vmChainName(0)}`);
    expect(after.split('\n').filter((l) => l.startsWith('-A CIAS-VM-E10 '))).toHaveLength(5);

    writeFileSync(join(etc, 'iptables-cias.rules'), 'garbage\n');
    const refused = netns.exec(ns, join(ASSETS, 'apply-firewall.sh'), [], { env });
    expect(refused.status).not.toBe(0);
    expect(netns.mustExec(ns, 'iptables', ['-t', 'nat', '-S'])).toBe(after);
  });

  it('carries real traffic: port forwards reach the VM, SSH only from the master VIP', async () => {
    const gw = netns.create('tg');
    const client = netns.create('tc');
    const vm = netns.create('tv');
    const link = (a: string, aIf: string, b: string, bIf: string) => {
      netns.mustExec(a, 'ip', ['link', 'add', aIf, 'type', 'veth', 'peer', 'name', bIf, 'netns', b]);
      netns.mustExec(a, 'ip', ['link', 'set', aIf, 'up']);
      netns.mustExec(b, 'ip', ['link', 'set', bIf, 'up']);
    };
    link(gw, 'wan0', client, 'c0');
    link(gw, 'lan0', vm, 'v0');
    for (const ip of ['192.168.56.102/24', '192.168.56.114/24']) netns.mustExec(gw, 'ip', ['addr', 'add', ip, 'dev', 'wan0']);
    netns.mustExec(gw, 'ip', ['addr', 'add', '10.0.0.254/8', 'dev', 'lan0']);
    netns.mustExec(gw, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    netns.mustExec(client, 'ip', ['addr', 'add', '192.168.56.50/24', 'dev', 'c0']);
    for (const ip of ['10.10.5.1/8', '10.254.0.254/8']) netns.mustExec(vm, 'ip', ['addr', 'add', ip, 'dev', 'v0']);
    netns.mustExec(vm, 'ip', ['route', 'add', 'default', 'via', '10.0.0.254']);
    const render = renderFirewall({ ...base, wanInterface: 'wan0', nas: [], nasManagementIp: undefined, vms: [VM_10501] });
    netns.mustExec(gw, 'iptables-restore', [], { input: render.fullRuleset });

    const server = (ns: string, ports: number[]) => {
      const code = `const http=require('http');for(const p of ${JSON.stringify(ports)})http.createServer((q,r)=>r.end('port '+p+' from '+q.socket.remoteAddress)).listen(p,'0.0.0.0');`;
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: 'ignore' });
      children.push(child);
    };
    server(vm, [80, 2222]);
    server(gw, [22]);
    const curl = (ns: string, url: string, from?: string) =>
      netns.exec(ns, 'curl', ['-s', '--max-time', '2', ...(from ? ['--interface', from] : []), url]);
    const deadline = Date.now() + 10000;
    while (curl(vm, 'http://10.10.5.1:80/').status !== 0 || curl(gw, 'http://127.0.0.1:22/').status !== 0) {
      if (Date.now() > deadline) throw new Error('test servers did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    expect(curl(client, 'http://192.168.56.114:50180/').stdout).toBe('port 80 from 192.168.56.50');
    expect(curl(client, 'http://192.168.56.114:50122/').stdout).toBe('port 2222 from 192.168.56.50');
    expect(curl(vm, 'http://10.0.0.254:22/', '10.254.0.254').stdout).toBe('port 22 from 10.254.0.254');
    expect(curl(vm, 'http://10.0.0.254:22/', '10.10.5.1').status).not.toBe(0);
    expect(curl(client, 'http://192.168.56.102:22/').status).not.toBe(0);
  });
});
