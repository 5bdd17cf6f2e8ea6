import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { GATEWAY_PATHS, renderFirewall, renderGatewayBundle } from '../../render/gateway';
import { exampleBundleParams, mustRun, Netns, run, scratchDir } from './gateway-fixtures';

const scratch = scratchDir('sh');
const netns = new Netns();
afterAll(() => {
  netns.removeAll();
  scratch.remove();
});

/** The bundle laid out under a scratch root; scripts run against it through the path variables. */
function installBundle(label: string) {
  const root = join(scratch.path, label);
  for (const file of renderGatewayBundle(exampleBundleParams())) {
    const target = join(root, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content);
    chmodSync(target, parseInt(file.mode, 8));
  }
  const lib = join(root, GATEWAY_PATHS.libDir);
  const env = {
    ...process.env,
    CIAS_GATEWAY_LIB: lib,
    CIAS_GATEWAY_CONF: join(root, GATEWAY_PATHS.conf),
    CIAS_GATEWAY_ETC: join(root, GATEWAY_PATHS.etcDir),
    CIAS_STATE_DIR: join(root, 'var/lib/cias'),
    CIAS_LOG_FILE: join(root, 'cias.log'),
    CIAS_LOCK_DIR: join(root, 'run/lock'),
    CIAS_ZENTYAL_ETC: join(root, 'etc/zentyal'),
    CIAS_BIND_ETC: join(root, 'etc/bind'),
    CIAS_NGINX_SITE: join(root, GATEWAY_PATHS.nginxSite),
    PATH: `/nonexistent-zs:${process.env.PATH}`,
  };
  return { root, lib, env };
}

function addEth0(ns: string): void {
  netns.mustExec(ns, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
  netns.mustExec(ns, 'ip', ['link', 'set', 'peer0', 'up']);
}

function wanAddresses(ns: string): string[] {
  return netns
    .mustExec(ns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0'])
    .split('\n')
    .map((l) => / inet (\S+)/.exec(l)?.[1])
    .filter((a): a is string => a !== undefined && a.startsWith('192.168.'));
}

describe('gateway scripts', () => {
  it('every script of the bundle is shellcheck-clean and strict', () => {
    const { root } = installBundle('lint');
    const scripts = renderGatewayBundle(exampleBundleParams()).filter((f) => f.mode === '0755' || f.path.endsWith('.sh'));
    expect(scripts.length).toBeGreaterThanOrEqual(14);
    for (const file of scripts) {
      const path = join(root, file.path);
      const result = run('shellcheck', ['-x', '-P', 'SCRIPTDIR', path]);
      expect({ path: file.path, status: result.status, out: result.stdout }).toEqual({ path: file.path, status: 0, out: '' });
      if (!file.path.endsWith('common.sh')) {
        expect(file.content.startsWith('#!/usr/bin/env bash\n')).toBe(true);
        expect(file.content).toContain('set -euo pipefail');
      }
    }
  });

  it('apply-addresses puts the WAN addresses on, primary first, idempotently; setup_ip_* change them', () => {
    const { lib, env } = installBundle('addr');
    const ns = netns.create('ad');
    addEth0(ns);
    const apply = () => netns.mustExec(ns, join(lib, 'apply-addresses.sh'), [], { env });
    apply();
    const first = wanAddresses(ns);
    expect(first).toEqual(['192.168.56.102/24', '192.168.56.103/24', '192.168.56.104/24', '192.168.56.114/24']);
    apply();
    expect(wanAddresses(ns)).toEqual(first);
    expect(netns.mustExec(ns, 'ip', ['-4', 'route', 'show', 'default'])).toContain('default via 192.168.56.1 dev eth0');
    expect(netns.mustExec(ns, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0'])).toContain('inet 10.0.0.254/8');

    netns.mustExec(ns, join(lib, 'setup_ip_vm.sh'), ['10', '192.168.56.120'], { env });
    expect(wanAddresses(ns)).toEqual(['192.168.56.102/24', '192.168.56.103/24', '192.168.56.104/24', '192.168.56.120/24']);
    netns.mustExec(ns, join(lib, 'setup_ip_proxmox.sh'), ['192.168.56.101'], { env });
    expect(wanAddresses(ns)[0]).toBe('192.168.56.101/24');
    expect(wanAddresses(ns)).toHaveLength(4);
    const taken = netns.exec(ns, join(lib, 'setup_ip_nas.sh'), ['192.168.56.104'], { env });
    expect(taken.status).not.toBe(0);
    expect(taken.stderr).toContain('already the vm-0 address');
    expect(netns.exec(ns, join(lib, 'setup_ip_vm.sh'), ['251', '192.168.56.200'], { env }).status).not.toBe(0);
    // An address someone else put on the NIC is not ours to remove.
    netns.mustExec(ns, 'ip', ['addr', 'add', '192.168.56.250/24', 'dev', 'eth0']);
    apply();
    expect(wanAddresses(ns)).toContain('192.168.56.250/24');
  });

  it('create_user makes a Zentyal admin from a password on stdin or in a file, idempotently', () => {
    const { lib, env } = installBundle('user');
    const passwordFile = join(scratch.path, 'password');
    writeFileSync(passwordFile, 'second-secret\n');
    // /etc is a private copy inside a mount namespace: the host's accounts are never touched.
    const script = [
      'set -euo pipefail',
      'copy=$(mktemp -d)',
      'cp -a /etc/. "$copy"',
      'mount --bind "$copy" /etc',
      `printf 'first-secret\\n' | ${lib}/create_user.sh ciasadmin`,
      'check() { perl -e \'my @e = getpwnam("ciasadmin"); my $h = (split /:/, `getent shadow ciasadmin`)[1]; print crypt($ARGV[0], $h) eq $h ? "match\\n" : "nomatch\\n"\' "$1"; }',
      'check first-secret',
      `${lib}/create_user.sh ciasadmin --password-file ${passwordFile}`,
      'check first-secret',
      'check second-secret',
      'id -nG ciasadmin',
      'grep -c "^ciasadmin:" /etc/passwd',
      `if printf 'short\\n' | ${lib}/create_user.sh ciasadmin 2>/dev/null; then echo short-accepted; fi`,
    ].join('\n');
    const out = mustRun('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script], { env });
    expect(out.split('\n')).toEqual(['match', 'nomatch', 'match', expect.stringMatching(/\bsudo\b/), '1', '']);
    expect(readFileSync(passwordFile, 'utf8')).toBe('second-secret\n');
  });

  it('apply-dns includes the zone once, and leaves a zone that does not load out', () => {
    const { root, lib, env } = installBundle('dns');
    const local = join(root, 'etc/bind/named.conf.local');
    writeFileSync(local, '// Zentyal\n');
    // The zone file names its absolute install path; point it at the scratch copy.
    const include = join(root, GATEWAY_PATHS.bindInclude);
    writeFileSync(include, readFileSync(include, 'utf8').replace('"/etc/bind/cias/', `"${root}/etc/bind/cias/`));
    mustRun(join(lib, 'apply-dns.sh'), [], { env });
    mustRun(join(lib, 'apply-dns.sh'), [], { env });
    const text = readFileSync(local, 'utf8');
    expect(text.split('\n').filter((l) => l === `include "${include}";`)).toHaveLength(1);
    writeFileSync(local, '// Zentyal\n');
    writeFileSync(join(root, 'etc/bind/cias/db.example.com'), 'garbage\n');
    mustRun(join(lib, 'apply-dns.sh'), [], { env });
    expect(readFileSync(local, 'utf8')).toBe('// Zentyal\n');
    expect(readFileSync(env.CIAS_LOG_FILE, 'utf8')).toContain('does not load; not included');
  });

  it('dev_clean removes rules, addresses and files of cias only, and can run twice', () => {
    const { root, lib, env } = installBundle('clean');
    const ns = netns.create('cl');
    addEth0(ns);
    netns.mustExec(ns, join(lib, 'apply-addresses.sh'), [], { env });
    netns.mustExec(ns, join(lib, 'apply-firewall.sh'), [], { env });
    expect(netns.mustExec(ns, 'iptables', ['-t', 'nat', '-S'])).toContain('CIAS-PREROUTING');
    const foreignHook = join(root, 'etc/zentyal/hooks/dhcp.postservice');
    writeFileSync(foreignHook, '#!/bin/sh\necho someone else\n');
    // As apply-dns.sh leaves it (its bind directory is the scratch one here).
    writeFileSync(join(root, 'etc/bind/named.conf.local'), `// Zentyal\n\n// cias (see x)\ninclude "${root}/etc/bind/cias/named.conf.cias";\n`);
    expect(netns.exec(ns, join(lib, 'dev_clean.sh'), [], { env }).status).toBe(2);
    for (let i = 0; i < 2; i++) netns.mustExec(ns, join(lib, 'dev_clean.sh'), ['--yes'], { env });
    expect(netns.mustExec(ns, 'iptables-save', [])).not.toContain('CIAS');
    expect(wanAddresses(ns)).toEqual([]);
    for (const path of [GATEWAY_PATHS.conf, GATEWAY_PATHS.dhcpStub, GATEWAY_PATHS.dhcpHosts, GATEWAY_PATHS.nginxSite, GATEWAY_PATHS.bindDir, GATEWAY_PATHS.etcDir, `${GATEWAY_PATHS.hooksDir}/firewall.postservice`]) {
      expect({ path, exists: existsSync(join(root, path)) }).toEqual({ path, exists: false });
    }
    expect(existsSync(foreignHook)).toBe(true);
    expect(readFileSync(join(root, 'etc/bind/named.conf.local'), 'utf8')).toBe('// Zentyal\n\n');
    expect(existsSync(join(lib, 'apply-firewall.sh'))).toBe(true);
  });
});

describe('gateway bundle', () => {
  it('installs every file once, at the paths the stub, hooks and scripts refer to', () => {
    const params = exampleBundleParams();
    const files = renderGatewayBundle(params);
    const paths = files.map((f) => f.path);
    expect(new Set(paths).size).toBe(paths.length);
    const byPath = new Map(files.map((f) => [f.path, f]));
    expect(byPath.get(GATEWAY_PATHS.dhcpStub)!.content).toContain(`include "${GATEWAY_PATHS.dhcpHosts}";`);
    expect(byPath.get(GATEWAY_PATHS.bindInclude)!.content).toContain('file "/etc/bind/cias/db.example.com";');
    expect(byPath.get('/etc/bind/cias/db.example.com')!.content).toMatch(/^first\s+IN A 192\.168\.56\.104$/m);
    expect(byPath.get(GATEWAY_PATHS.firewallRules)!.content).toBe(
      renderFirewall({
        proxmoxManagementIp: params.proxmoxManagementIp,
        nasManagementIp: params.nasManagementIp,
        nas: params.nas,
        vms: params.vms,
      }).hookRules,
    );
    expect(byPath.get(`${GATEWAY_PATHS.hooksDir}/firewall.postservice`)).toMatchObject({ mode: '0755' });
    expect(byPath.get(`${GATEWAY_PATHS.hooksDir}/firewall.postservice`)!.content).toContain(
      `exec ${GATEWAY_PATHS.libDir}/apply-firewall.sh`,
    );
    expect(byPath.get(GATEWAY_PATHS.addresses)!.content).toBe(
      '# role address (cias gateway WAN addresses; see setup_ip_*.sh)\nproxmox 192.168.56.102\nnas 192.168.56.103\nvm-0 192.168.56.104\nvm-10 192.168.56.114\n',
    );
    expect(() => renderGatewayBundle({ ...params, vmManagementIps: params.vmManagementIps.slice(0, 1) })).toThrow(/VM-management IP 10/);
  });
});
