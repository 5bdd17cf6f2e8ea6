/**
 * BIND zone data for the names cluster.yaml declares (SPEC §6 "DNS names, served on the
 * Proxmox-management IP"). Zentyal's DNS module runs bind9 and rewrites `named.conf.local` on every
 * restart; the `dns.postsetconf` hook adds one `include` of `renderNamedConfInclude` to it, so the
 * zone is loaded next to Zentyal's own and the GUI never edits it.
 */
import { createHash } from 'crypto';
import { isHostName, requireIpv4 } from './net';
import { DnsName } from './types';

export interface DnsZoneParams {
  /** The zone apex, e.g. `example.com`. */
  readonly zone: string;
  readonly records: readonly DnsName[];
  /** Address of the zone's name server: the Proxmox-management IP, which holds the delegation. */
  readonly nameserverIp: string;
  /**
   * First label of the name server's name inside the zone.
   * @default 'cias-router'
   */
  readonly nameserverLabel?: string;
  /**
   * SOA serial. The gateway is the zone's only server (no secondaries compare serials), so a value
   * derived from the records is enough: it changes exactly when the data changes.
   * @default a 31-bit hash of the records
   */
  readonly serial?: number;
  /** @default 300 */
  readonly ttlSeconds?: number;
}

export interface NamedConfIncludeParams {
  readonly zone: string;
  /** Absolute path of the zone file. */
  readonly zoneFile: string;
}

function normalizeZone(zone: string): string {
  const z = zone.replace(/\.$/, '').toLowerCase();
  if (!isHostName(z)) throw new Error(`zone: not a domain name: ${JSON.stringify(zone)}`);
  return z;
}

/** Owner name relative to the zone (`@` for the apex), or an error if the name lies outside it. */
function relativeOwner(name: string, zone: string): string {
  const n = name.replace(/\.$/, '').toLowerCase();
  if (!isHostName(n)) throw new Error(`DNS name ${JSON.stringify(name)} is not a host name`);
  if (n === zone) return '@';
  if (!n.endsWith(`.${zone}`)) throw new Error(`DNS name ${name} is outside the zone ${zone}`);
  return n.slice(0, -(zone.length + 1));
}

export function renderDnsZone(params: DnsZoneParams): string {
  const zone = normalizeZone(params.zone);
  const nsIp = requireIpv4(params.nameserverIp, 'nameserverIp');
  const nsLabel = params.nameserverLabel ?? 'cias-router';
  if (!isHostName(nsLabel) || nsLabel.includes('.')) throw new Error(`nameserverLabel: not a DNS label: ${nsLabel}`);
  const ttl = params.ttlSeconds ?? 300;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2147483647) throw new Error(`ttlSeconds: ${ttl}`);

  // One A record per distinct (name, address): the same name may point at several addresses
  // (SPEC §6: duplicate domain names allowed), a repeated pair is written once.
  const seen = new Set<string>();
  const records: string[] = [];
  for (const record of params.records) {
    const owner = relativeOwner(record.name, zone);
    const ip = requireIpv4(record.ip, `DNS name ${record.name}`);
    const key = `${owner} ${ip}`;
    if (seen.has(key)) continue;
    seen.add(key);
    records.push(`${owner.padEnd(24)} IN A ${ip}`);
  }
  records.sort();

  const serial =
    params.serial ??
    (createHash('sha256').update(`${nsLabel} ${nsIp}\n${records.join('\n')}`).digest().readUInt32BE(0) & 0x7fffffff) + 1;
  if (!Number.isInteger(serial) || serial < 1 || serial > 4294967295) throw new Error(`serial: ${serial}`);

  return [
    `; cias: zone ${zone} (SPEC §6). Generated from cluster.yaml; do not edit.`,
    `$ORIGIN ${zone}.`,
    `$TTL ${ttl}`,
    `@ IN SOA ${nsLabel}.${zone}. hostmaster.${zone}. (`,
    `    ${serial} ; serial`,
    '    3600       ; refresh',
    '    900        ; retry',
    '    1209600    ; expire',
    `    ${ttl} )    ; negative-answer TTL`,
    `@ IN NS ${nsLabel}.${zone}.`,
    `${nsLabel.padEnd(24)} IN A ${nsIp}`,
    ...records,
  ].join('\n') + '\n';
}

export function renderNamedConfInclude(params: NamedConfIncludeParams): string {
  const zone = normalizeZone(params.zone);
  if (!/^\/[A-Za-z0-9_./-]+$/.test(params.zoneFile)) throw new Error(`zoneFile: not a plain absolute path: ${params.zoneFile}`);
  return [
    '// cias: zones from cluster.yaml, included into named.conf.local by the dns.postsetconf hook.',
    `zone "${zone}" {`,
    '    type master;',
    `    file "${params.zoneFile}";`,
    '};',
  ].join('\n') + '\n';
}
