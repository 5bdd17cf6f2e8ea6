/**
 * The cias block of a node's /etc/hosts (SPEC §4): `cias-pve-master` names the floating master VIP,
 * which is what MooseFS daemons and mounts connect to, and the node's own FQDN and Proxmox name
 * resolve to its internal IP (Proxmox refuses a node name that resolves to a loopback address).
 *
 * Only the lines between the markers belong to cias; `mergeHostsBlock` never touches anything else.
 */
import { isIpv4 } from '../model/ipv4';

export const HOSTS_BLOCK_BEGIN = '# BEGIN cias';
export const HOSTS_BLOCK_END = '# END cias';
export const DEFAULT_MASTER_HOST_NAME = 'cias-pve-master';
export const DEFAULT_MASTER_VIP = '10.254.0.254';

export interface HostsBlockParams {
  /** The node's internal IP, e.g. 10.254.1.1. */
  readonly nodeIp: string;
  /** e.g. pve.master-rack.a.1-1.example.com */
  readonly fqdn: string;
  /** Proxmox node name, e.g. pve-master-rack-a-1-1. */
  readonly nodeName: string;
  /** Address of the master role. @default '10.254.0.254' */
  readonly vip?: string;
  /** Name MooseFS uses for the master. @default 'cias-pve-master' */
  readonly masterHostName?: string;
}

const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(\\.${LABEL})*$`);

export function isHostName(name: string): boolean {
  return HOST_NAME.test(name);
}

export function renderHostsBlock(params: HostsBlockParams): string {
  const vip = params.vip ?? DEFAULT_MASTER_VIP;
  const masterHostName = params.masterHostName ?? DEFAULT_MASTER_HOST_NAME;
  const problems: string[] = [];
  if (!isIpv4(params.nodeIp)) problems.push(`nodeIp ${JSON.stringify(params.nodeIp)} is not an IPv4 address`);
  if (!isIpv4(vip)) problems.push(`vip ${JSON.stringify(vip)} is not an IPv4 address`);
  if (params.nodeIp === vip) problems.push(`nodeIp ${vip} equals the master VIP`);
  if (!isHostName(params.fqdn) || !params.fqdn.includes('.')) problems.push(`fqdn ${JSON.stringify(params.fqdn)} is not a fully qualified host name`);
  if (!isHostName(params.nodeName) || params.nodeName.includes('.')) problems.push(`nodeName ${JSON.stringify(params.nodeName)} is not a single host name label`);
  if (!isHostName(masterHostName)) problems.push(`masterHostName ${JSON.stringify(masterHostName)} is not a host name`);
  const names = [params.fqdn, params.nodeName, masterHostName].map((n) => n.toLowerCase());
  if (new Set(names).size !== names.length) problems.push('fqdn, nodeName and masterHostName must be three different names');
  if (problems.length > 0) throw new Error(`invalid /etc/hosts parameters:\n${problems.map((p) => `  - ${p}`).join('\n')}`);

  return [
    HOSTS_BLOCK_BEGIN,
    '# Managed by cias (render/hosts.ts); edits between these markers are overwritten.',
    `${vip} ${masterHostName}`,
    `${params.nodeIp} ${params.fqdn} ${params.nodeName}`,
    HOSTS_BLOCK_END,
    '',
  ].join('\n');
}

interface BlockSpan {
  /** Index of the BEGIN line. */
  readonly begin: number;
  /** Index of the END line. */
  readonly end: number;
}

function findBlocks(lines: readonly string[]): BlockSpan[] {
  const spans: BlockSpan[] = [];
  let begin: number | undefined;
  lines.forEach((line, index) => {
    const trimmed = line.trimEnd();
    if (trimmed === HOSTS_BLOCK_BEGIN) {
      if (begin !== undefined) throw new Error(`/etc/hosts: "${HOSTS_BLOCK_BEGIN}" on line ${index + 1} inside an open cias block (line ${begin + 1})`);
      begin = index;
    } else if (trimmed === HOSTS_BLOCK_END) {
      if (begin === undefined) throw new Error(`/etc/hosts: "${HOSTS_BLOCK_END}" on line ${index + 1} without a "${HOSTS_BLOCK_BEGIN}"`);
      spans.push({ begin, end: index });
      begin = undefined;
    }
  });
  if (begin !== undefined) throw new Error(`/etc/hosts: "${HOSTS_BLOCK_BEGIN}" on line ${begin + 1} is never closed by "${HOSTS_BLOCK_END}"`);
  return spans;
}

/**
 * /etc/hosts text with `block` in place of the existing cias block (or appended when there is none).
 * Lines outside the block are kept byte for byte; extra cias blocks are removed. Idempotent.
 * Throws on a half block (a BEGIN without END or the reverse) rather than guess where it ends.
 */
export function mergeHostsBlock(existingHostsText: string, block: string): string {
  const blockLines = block.replace(/\n$/, '').split('\n');
  if (blockLines[0] !== HOSTS_BLOCK_BEGIN || blockLines[blockLines.length - 1] !== HOSTS_BLOCK_END || findBlocks(blockLines).length !== 1) {
    throw new Error('mergeHostsBlock: the block must be one cias block as rendered by renderHostsBlock');
  }
  if (existingHostsText === '') return `${blockLines.join('\n')}\n`;
  const endsWithNewline = existingHostsText.endsWith('\n');
  const lines = (endsWithNewline ? existingHostsText.slice(0, -1) : existingHostsText).split('\n');
  const spans = findBlocks(lines);
  if (spans.length === 0) return `${lines.join('\n')}\n${blockLines.join('\n')}\n`;

  const result: string[] = [];
  let next = 0;
  spans.forEach((span, index) => {
    result.push(...lines.slice(next, span.begin));
    if (index === 0) result.push(...blockLines);
    next = span.end + 1;
  });
  result.push(...lines.slice(next));
  return `${result.join('\n')}\n`;
}

/**
 * Lines outside the cias block that give one of the block's names another address (for instance
 * Debian's `127.0.1.1 <hostname>`). The first match in /etc/hosts wins, so such a line can shadow
 * the block; callers should report or remove them.
 */
export function findHostsConflicts(existingHostsText: string, block: string): string[] {
  const wanted = new Map<string, string>();
  for (const line of block.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address) continue;
    for (const name of names) wanted.set(name.toLowerCase(), address);
  }
  const lines = existingHostsText.split('\n');
  const inside = new Set<number>();
  for (const span of findBlocks(lines)) for (let i = span.begin; i <= span.end; i++) inside.add(i);
  const conflicts: string[] = [];
  lines.forEach((line, index) => {
    if (inside.has(index)) return;
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address) return;
    for (const name of names) {
      const expected = wanted.get(name.toLowerCase());
      if (expected !== undefined && expected !== address) {
        conflicts.push(`line ${index + 1}: ${name} -> ${address}, but the cias block says ${expected}`);
      }
    }
  });
  return conflicts;
}
