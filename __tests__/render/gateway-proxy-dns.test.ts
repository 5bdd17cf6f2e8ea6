import { writeFileSync } from 'fs';
import { join } from 'path';
import { renderDnsZone, renderNamedConfInclude, renderNginxSite, NginxSiteParams } from '../../render/gateway';
import { mustRun, Netns, run, scratchDir } from './gateway-fixtures';

const scratch = scratchDir('px');
const netns = new Netns();
afterAll(() => {
  netns.removeAll();
  scratch.remove();
});

const site: NginxSiteParams = {
  proxmoxManagementIp: '192.168.56.102',
  proxmoxNodeIps: ['10.254.1.1', '10.254.1.2'],
  nasManagementIp: '192.168.56.103',
  nas: [
    { hostname: 'nas.rack-b.a.1-1.example.com', ip: '10.253.1.1', managementForwards: [] },
    { hostname: 'nas.rack-b.a.1-2.example.com', ip: '10.253.1.2', managementForwards: [], webPort: 5001, webScheme: 'https' },
  ],
  reverseProxies: [{ serverName: 'app.example.com', upstream: 'http://10.10.5.1:8080/app/' }],
  redirects: [{ fromHost: 'www.example.com', toUrl: 'https://example.org/welcome?from=cias' }],
};

/** nginx -t binds its listen addresses, so it runs in a namespace that holds them. */
function nginxTest(siteText: string, label: string) {
  const ns = netns.create(label);
  for (const ip of ['192.168.56.102', '192.168.56.103']) mustRun('ip', ['-n', ns, 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
  const prefix = join(scratch.path, label);
  mustRun('mkdir', ['-p', join(prefix, 'logs')]);
  writeFileSync(join(prefix, 'site.conf'), siteText);
  writeFileSync(
    join(prefix, 'nginx.conf'),
    [
      `pid ${prefix}/nginx.pid;`,
      `error_log ${prefix}/logs/error.log;`,
      'events {}',
      `http { access_log off; include ${prefix}/site.conf; }`,
      '',
    ].join('\n'),
  );
  return netns.exec(ns, 'nginx', ['-t', '-p', prefix, '-c', join(prefix, 'nginx.conf')]);
}

describe('nginx reverse proxy', () => {
  it('proxies the Proxmox UI with websocket upgrade, VIP first and nodes as backups', () => {
    const text = renderNginxSite(site);
    expect(text).toContain('upstream cias_pve {\n    server 10.254.0.254:8006;\n    server 10.254.1.1:8006 backup;\n    server 10.254.1.2:8006 backup;\n}');
    expect(text).toContain('listen 192.168.56.102:80 default_server;');
    expect(text).toContain('proxy_pass https://cias_pve;');
    expect(text).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(text).toContain('proxy_set_header Connection $cias_connection_upgrade;');
    expect(text).toContain('listen 192.168.56.103:80 default_server;\n    server_name nas.rack-b.a.1-1.example.com;');
    expect(text).toContain('proxy_pass https://10.253.1.2:5001;');
    expect(text).toContain('server_name app.example.com;');
    expect(text).toContain('return 301 "https://example.org/welcome?from=cias";');
  });

  it('nginx -t accepts the site, with and without TLS', () => {
    const result = nginxTest(renderNginxSite(site), 'nx');
    expect({ status: result.status, stderr: result.stderr }).toMatchObject({ status: 0 });
    const cert = join(scratch.path, 'cert.pem');
    const key = join(scratch.path, 'key.pem');
    mustRun('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=cias-router', '-keyout', key, '-out', cert]);
    const tls = renderNginxSite({ ...site, tls: { certificate: cert, certificateKey: key } });
    expect(tls).toContain('listen 192.168.56.102:443 ssl default_server;');
    const tlsResult = nginxTest(tls, 'nt');
    expect({ status: tlsResult.status, stderr: tlsResult.stderr }).toMatchObject({ status: 0 });
  });

  it('nginx -t rejects a broken site', () => {
    const broken = renderNginxSite(site).replace('proxy_pass https://cias_pve;', 'proxy_pass https://cias_pve');
    const result = nginxTest(broken, 'nb');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/emerg/);
  });

  it('refuses a name served twice, unsafe URLs and a NAS without its IP', () => {
    expect(() =>
      renderNginxSite({ ...site, redirects: [{ fromHost: 'APP.example.com', toUrl: 'https://example.org/' }] }),
    ).toThrow(/already served/);
    expect(() => renderNginxSite({ ...site, redirects: [{ fromHost: 'x.example.com', toUrl: 'https://e.org/$host' }] })).toThrow(
      /plain http/,
    );
    expect(() =>
      renderNginxSite({ ...site, reverseProxies: [{ serverName: 'y.example.com', upstream: 'http://10.0.0.1; evil' }] }),
    ).toThrow(/URL/);
    expect(() => renderNginxSite({ ...site, nasManagementIp: undefined })).toThrow(/nasManagementIp/);
  });
});

describe('DNS zone', () => {
  const zone = {
    zone: 'example.com',
    nameserverIp: '192.168.56.102',
    records: [
      { name: 'pve.example.com', ip: '192.168.56.102' },
      { name: 'web.example.com.', ip: '192.168.56.114' },
      { name: 'web.example.com', ip: '192.168.56.115' },
      { name: 'web.example.com', ip: '192.168.56.114' },
      { name: 'example.com', ip: '192.168.56.102' },
    ],
  };

  function checkZone(text: string) {
    const file = join(scratch.path, `db.${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, text);
    return run('named-checkzone', ['example.com', file]);
  }

  it('holds the delegation name server and every name, repeated names with several addresses', () => {
    const text = renderDnsZone(zone);
    expect(text).toMatch(/^@ IN NS cias-router\.example\.com\.$/m);
    expect(text).toMatch(/^cias-router\s+IN A 192\.168\.56\.102$/m);
    expect(text.match(/^web\s+IN A .*$/gm)).toEqual(['web                      IN A 192.168.56.114', 'web                      IN A 192.168.56.115']);
    expect(text).toMatch(/^@\s+IN A 192\.168\.56\.102$/m);
    expect(renderDnsZone(zone)).toBe(text);
    expect(renderDnsZone({ ...zone, records: zone.records.slice(1) })).not.toMatch(text.match(/\d+ ; serial/)![0]);
  });

  it('named-checkzone accepts the zone and rejects a broken one', () => {
    const good = checkZone(renderDnsZone(zone));
    expect(good.stdout).toMatch(/loaded serial \d+\nOK/);
    expect(good.status).toBe(0);
    const bad = checkZone(renderDnsZone(zone).replace('IN A 192.168.56.115', 'IN A 192.168.56'));
    expect(bad.status).not.toBe(0);
  });

  it('named-checkconf loads the include and its zone', () => {
    const zoneFile = join(scratch.path, 'db.example.com');
    writeFileSync(zoneFile, renderDnsZone(zone));
    const include = join(scratch.path, 'named.conf.cias');
    writeFileSync(include, renderNamedConfInclude({ zone: 'example.com', zoneFile }));
    const result = run('named-checkconf', ['-z', include]);
    expect({ status: result.status, out: result.stdout }).toMatchObject({ status: 0 });
    expect(result.stdout).toContain('zone example.com/IN: loaded serial');
  });

  it('refuses names outside the zone', () => {
    expect(() => renderDnsZone({ ...zone, records: [{ name: 'pve.example.org', ip: '192.168.56.102' }] })).toThrow(/outside the zone/);
    expect(() => renderDnsZone({ ...zone, records: [{ name: 'bad_name.example.com', ip: '192.168.56.102' }] })).toThrow(/host name/);
  });
});
