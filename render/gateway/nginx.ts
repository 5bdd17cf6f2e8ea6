/**
 * nginx server blocks for the gateway's reverse proxy (SPEC §6 "cloud network module"): the Proxmox
 * web UI and the name-based entries on the Proxmox-management IP, the NAS web UIs on the
 * NAS-management IP, URL redirects. Zentyal 8 has no reverse-proxy module and its web-admin nginx is a
 * separate instance (port 8443), so this file goes into Debian's own nginx (`conf.d`, http context),
 * which Zentyal never regenerates.
 */
import { isHostName, requireIpv4, requirePort } from './net';
import { GATEWAY_DEFAULTS, GatewayNas, ReverseProxyEntry, UrlRedirect } from './types';

export interface NginxTls {
  /** PEM certificate (chain) covering every served name. */
  readonly certificate: string;
  readonly certificateKey: string;
}

export interface NginxSiteParams {
  readonly proxmoxManagementIp: string;
  /** @default '10.254.0.254' */
  readonly proxmoxVip?: string;
  /** @default 8006 */
  readonly proxmoxUiPort?: number;
  /**
   * Internal IPs of every Proxmox node: backup upstreams while the VIP moves (any node serves the
   * cluster's UI, tickets are cluster-wide).
   * @default []
   */
  readonly proxmoxNodeIps?: readonly string[];
  /**
   * Needed when `nas` is not empty.
   * @default undefined
   */
  readonly nasManagementIp?: string;
  /** @default [] */
  readonly nas?: readonly GatewayNas[];
  /** @default [] */
  readonly reverseProxies?: readonly ReverseProxyEntry[];
  /** @default [] */
  readonly redirects?: readonly UrlRedirect[];
  /**
   * Serve HTTPS on 443 as well, with this certificate.
   * @default undefined (HTTP on port 80 only)
   */
  readonly tls?: NginxTls;
}

const UPSTREAM_URL = /^(https?):\/\/([A-Za-z0-9.-]+)(:(\d{1,5}))?(\/[A-Za-z0-9._~%/-]*)?$/;
/** What a redirect target may contain: no quotes, spaces, `;`, braces or `$` (nginx variables). */
const SAFE_URL = /^https?:\/\/[A-Za-z0-9._~!&*+,=:@%/?#-]+$/;
const SAFE_PATH = /^\/[A-Za-z0-9_./-]+$/;

const PROXY_HEADERS = [
  'proxy_http_version 1.1;',
  'proxy_set_header Host $host;',
  'proxy_set_header X-Real-IP $remote_addr;',
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
  'proxy_set_header Upgrade $http_upgrade;',
  'proxy_set_header Connection $cias_connection_upgrade;',
];

export function renderNginxSite(params: NginxSiteParams): string {
  const pmIp = requireIpv4(params.proxmoxManagementIp, 'proxmoxManagementIp');
  const vip = requireIpv4(params.proxmoxVip ?? GATEWAY_DEFAULTS.proxmoxVip, 'proxmoxVip');
  const pvePort = requirePort(params.proxmoxUiPort ?? GATEWAY_DEFAULTS.proxmoxUiPort, 'proxmoxUiPort');
  const nodeIps = (params.proxmoxNodeIps ?? []).map((ip, i) => requireIpv4(ip, `proxmoxNodeIps[${i}]`));
  const nas = params.nas ?? [];
  const nasIp = params.nasManagementIp === undefined ? undefined : requireIpv4(params.nasManagementIp, 'nasManagementIp');
  if (nas.length > 0 && nasIp === undefined) throw new Error('nasManagementIp is required when a NAS is listed');
  const tls = params.tls;
  if (tls !== undefined) {
    for (const path of [tls.certificate, tls.certificateKey]) {
      if (!SAFE_PATH.test(path)) throw new Error(`tls: not a plain absolute path: ${path}`);
    }
  }

  const names = new Map<string, string>();
  const claim = (ip: string, name: string, owner: string) => {
    const host = name.toLowerCase();
    if (!isHostName(host)) throw new Error(`${owner}: not a host name: ${JSON.stringify(name)}`);
    const key = `${ip} ${host}`;
    const previous = names.get(key);
    if (previous !== undefined) throw new Error(`${owner}: ${host} on ${ip} is already served by ${previous}`);
    names.set(key, owner);
    return host;
  };

  const out: string[] = [
    '# cias: gateway reverse proxy (SPEC §6). Generated from cluster.yaml; do not edit.',
    '# Websocket upgrade (Proxmox noVNC/xterm.js consoles and any proxied app).',
    'map $http_upgrade $cias_connection_upgrade {',
    '    default upgrade;',
    "    ''      close;",
    '}',
    '',
    'upstream cias_pve {',
    `    server ${vip}:${pvePort};`,
    ...nodeIps.filter((ip) => ip !== vip).map((ip) => `    server ${ip}:${pvePort} backup;`),
    '}',
  ];

  const listen = (ip: string, isDefault: boolean): string[] => {
    const suffix = isDefault ? ' default_server' : '';
    const lines = [`    listen ${ip}:80${suffix};`];
    if (tls !== undefined) {
      lines.push(
        `    listen ${ip}:443 ssl${suffix};`,
        `    ssl_certificate ${tls.certificate};`,
        `    ssl_certificate_key ${tls.certificateKey};`,
      );
    }
    return lines;
  };
  const proxyLocation = (target: string, extra: readonly string[] = []): string[] => [
    '    location / {',
    `        proxy_pass ${target};`,
    ...[...PROXY_HEADERS, ...extra].map((l) => `        ${l}`),
    '    }',
  ];

  out.push(
    '',
    '# Proxmox VE web UI of the current master (the VIP), any node as a fallback.',
    'server {',
    ...listen(pmIp, true),
    '    server_name _;',
    '    client_max_body_size 0;',
    ...proxyLocation('https://cias_pve', [
      'proxy_ssl_server_name off;',
      'proxy_buffering off;',
      'proxy_read_timeout 3600s;',
      'proxy_send_timeout 3600s;',
    ]),
    '}',
  );

  nas.forEach((box, i) => {
    const host = claim(nasIp as string, box.hostname, `NAS ${box.hostname}`);
    const ip = requireIpv4(box.ip, `NAS ${box.hostname} ip`);
    const port = requirePort(box.webPort ?? 80, `NAS ${box.hostname} webPort`);
    const scheme = box.webScheme ?? 'http';
    if (scheme !== 'http' && scheme !== 'https') throw new Error(`NAS ${box.hostname}: webScheme ${String(scheme)}`);
    out.push(
      '',
      `# NAS ${host}${i === 0 ? ' (also the default on the NAS-management IP)' : ''}.`,
      'server {',
      ...listen(nasIp as string, i === 0),
      `    server_name ${host};`,
      '    client_max_body_size 0;',
      ...proxyLocation(`${scheme}://${ip}:${port}`),
      '}',
    );
  });

  for (const entry of params.reverseProxies ?? []) {
    const host = claim(pmIp, entry.serverName, `reverse proxy ${entry.serverName}`);
    const match = UPSTREAM_URL.exec(entry.upstream);
    if (match === null) {
      throw new Error(`reverse proxy ${host}: not an http(s) URL nginx can proxy to: ${JSON.stringify(entry.upstream)}`);
    }
    if (match[4] !== undefined) requirePort(Number(match[4]), `reverse proxy ${host} upstream port`);
    out.push('', 'server {', ...listen(pmIp, false), `    server_name ${host};`, ...proxyLocation(entry.upstream), '}');
  }

  for (const redirect of params.redirects ?? []) {
    const host = claim(pmIp, redirect.fromHost, `redirect ${redirect.fromHost}`);
    if (!SAFE_URL.test(redirect.toUrl)) {
      throw new Error(`redirect ${host}: not a plain http(s) URL: ${JSON.stringify(redirect.toUrl)}`);
    }
    out.push('', 'server {', ...listen(pmIp, false), `    server_name ${host};`, `    return 301 "${redirect.toUrl}";`, '}');
  }
  return out.join('\n') + '\n';
}
