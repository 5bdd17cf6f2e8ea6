/**
 * The check `lab up` ends with, usable on its own: one master (both VIPs on it and nowhere else, and it
 * may be master), mfsmaster only there, every chunkserver and the metaloggers registered (mfscli),
 * /mnt/mfs mounted on every node, /etc/cron.d/cias installed as cron accepts it, the MooseFS status
 * page answering on 9425.
 */
import * as fs from 'fs';
import * as http from 'http';
import { addressHolders, nodeProcessesNamed } from './daemons';
import { run } from './exec';
import { isAlive, LabState, NodeRecord } from './state';
import { LabNodePlan } from './topology';

export interface LabCheckResult {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface LabCheckReport {
  readonly ok: boolean;
  /** The node holding the internal VIP, when exactly one does. */
  readonly master?: string;
  readonly results: readonly LabCheckResult[];
}

export interface LabCheckOptions {
  /** MooseFS status page port. @default 9425 */
  readonly statusPort?: number;
  /** Where the cron jobs must be installed. @default `/etc/cron.d/cias` */
  readonly cronFile?: string;
  /** @default `/mnt/mfs` */
  readonly mfsMount?: string;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

/** Addresses in `mfscli` output lines whose label (first tab field) starts with `label`. */
export function mfscliAddresses(output: string, label: string): string[] {
  const addresses = new Set<string>();
  for (const line of output.split('\n')) {
    const [head, ...fields] = line.split('\t');
    if (!head.trim().toLowerCase().startsWith(label)) continue;
    for (const field of fields) {
      const match = /^(\d{1,3}(?:\.\d{1,3}){3})$/.exec(field.trim());
      if (match) addresses.add(match[1]);
    }
  }
  return [...addresses].sort();
}

/** Problems with a cron.d file as Debian cron judges it (see REFERENCE §5.1); empty when fine. */
export function cronFileProblems(file: string, name: string): string[] {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_-]+$/.test(name)) problems.push(`file name ${name} is skipped by cron (only letters, digits, _ and -)`);
  const stat = fs.statSync(file);
  if (stat.uid !== 0) problems.push('not owned by root');
  if ((stat.mode & 0o022) !== 0) problems.push(`mode ${(stat.mode & 0o777).toString(8)} is group/other writable`);
  if (stat.nlink > 1) problems.push('has more than one hard link');
  const content = fs.readFileSync(file, 'utf8');
  if (!content.endsWith('\n')) problems.push('last line has no newline');
  return problems;
}

function httpStatus(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // mfscgiserv (Python's http.server with CGI) writes headers Node's strict parser rejects.
    const request = http.get(url, { timeout: timeoutMs, insecureHTTPParser: true }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

function mountedAt(record: NodeRecord, mountPoint: string): string | undefined {
  if (!isAlive(record.init)) return undefined;
  const mountinfo = fs.readFileSync(`/proc/${record.init.pid}/mountinfo`, 'utf8');
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (fields[4] === mountPoint && separator > 0) return fields[separator + 1];
  }
  return undefined;
}

export async function checkLab(state: LabState, options: LabCheckOptions = {}): Promise<LabCheckReport> {
  const topology = state.topology;
  const statusPort = options.statusPort ?? 9425;
  const cronFile = options.cronFile ?? '/etc/cron.d/cias';
  const mfsMount = options.mfsMount ?? '/mnt/mfs';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const results: LabCheckResult[] = [];
  const add = (check: string, ok: boolean, detail: string) => results.push({ check, ok, detail });
  const nodes = topology.nodes;
  const recordOf = (node: LabNodePlan): NodeRecord | undefined => state.nodes[node.name];
  const running = nodes.filter((node) => isAlive(recordOf(node)?.init));
  add('nodes running', running.length === nodes.length, `${running.length} of ${nodes.length} nodes are on`);

  const vipHolders = addressHolders(topology, topology.vip);
  const master = vipHolders.length === 1 ? vipHolders[0] : undefined;
  add('VIP on one node', master !== undefined, `${topology.vip} is on ${vipHolders.join(', ') || 'no node'}`);
  const extHolders = addressHolders(topology, topology.masterExternalIp);
  add(
    'master external IP with the VIP',
    master !== undefined && extHolders.length === 1 && extHolders[0] === master,
    `${topology.masterExternalIp} is on ${extHolders.join(', ') || 'no node'}`,
  );
  const masterPlan = nodes.find((node) => node.name === master);
  add('master may be master', masterPlan?.canBeMaster ?? false, master ? `${master} can_be_master=${String(masterPlan?.canBeMaster)}` : 'no master');

  const runningDaemon = (comm: string) =>
    running.filter((node) => nodeProcessesNamed(recordOf(node) as NodeRecord, comm).length > 0).map((node) => node.name);
  const keepalivedNodes = runningDaemon('keepalived');
  add('keepalived everywhere', keepalivedNodes.length === nodes.length, `keepalived runs on ${keepalivedNodes.join(', ') || 'no node'}`);
  const mfsmasterNodes = runningDaemon('mfsmaster');
  add(
    'mfsmaster only on the master',
    master !== undefined && mfsmasterNodes.length === 1 && mfsmasterNodes[0] === master,
    `mfsmaster runs on ${mfsmasterNodes.join(', ') || 'no node'}`,
  );

  const mfscli = (set: string) =>
    run('mfscli', ['-H', topology.vip, '-p', '-n', `-S${set}`], { allowFailure: true, timeoutMs });
  const chunkservers = mfscli('CS');
  const registered = chunkservers.status === 0 ? mfscliAddresses(chunkservers.stdout, 'chunk servers') : [];
  const missingChunkservers = nodes.filter((node) => !registered.includes(node.ip)).map((node) => node.ip);
  add(
    'every chunkserver registered',
    chunkservers.status === 0 && missingChunkservers.length === 0,
    chunkservers.status === 0
      ? `registered: ${registered.join(', ') || 'none'}${missingChunkservers.length ? `; missing: ${missingChunkservers.join(', ')}` : ''}`
      : `mfscli -SCS failed: ${chunkservers.stderr.trim()}`,
  );
  const loggers = mfscli('MB');
  const metaloggers = loggers.status === 0 ? mfscliAddresses(loggers.stdout, 'metadata backup loggers') : [];
  // Every node that may take over must hold metadata to restore from (mfsmaster -a).
  const successors = nodes.filter((node) => node.canBeMaster && node.name !== master);
  const missingLoggers = successors.filter((node) => !metaloggers.includes(node.ip)).map((node) => node.ip);
  add(
    'metaloggers registered',
    loggers.status === 0 && metaloggers.length > 0 && missingLoggers.length === 0,
    loggers.status === 0
      ? `registered: ${metaloggers.join(', ') || 'none'}${missingLoggers.length ? `; missing on possible successors: ${missingLoggers.join(', ')}` : ''}`
      : `mfscli -SMB failed: ${loggers.stderr.trim()}`,
  );

  const unmounted = nodes.filter((node) => {
    const record = recordOf(node);
    return !record || !(mountedAt(record, mfsMount) ?? '').startsWith('fuse');
  });
  add(`${mfsMount} mounted everywhere`, unmounted.length === 0, unmounted.length ? `not mounted on ${unmounted.map((n) => n.name).join(', ')}` : 'mounted on every node');

  const cronProblems: string[] = [];
  for (const node of nodes) {
    const record = recordOf(node);
    if (!record || !isAlive(record.init)) {
      cronProblems.push(`${node.name}: off`);
      continue;
    }
    const file = `/proc/${record.init.pid}/root${cronFile}`;
    if (!fs.existsSync(file)) cronProblems.push(`${node.name}: missing`);
    else cronProblems.push(...cronFileProblems(file, cronFile.split('/').pop() as string).map((p) => `${node.name}: ${p}`));
  }
  add(`${cronFile} installed`, cronProblems.length === 0, cronProblems.join('; ') || 'present on every node');

  let statusDetail: string;
  let statusOk = false;
  try {
    const answer = await httpStatus(`http://${topology.vip}:${statusPort}/mfs.cgi?masterhost=${topology.vip}`, timeoutMs);
    statusOk = answer.status === 200 && /moosefs/i.test(answer.body);
    statusDetail = `HTTP ${answer.status} from ${topology.vip}:${statusPort}`;
  } catch (error) {
    statusDetail = `${topology.vip}:${statusPort}: ${(error as Error).message}`;
  }
  add(`status page on ${statusPort}`, statusOk, statusDetail);

  return { ok: results.every((result) => result.ok), master, results };
}

export function formatCheckReport(report: LabCheckReport): string {
  const width = Math.max(...report.results.map((result) => result.check.length));
  return report.results
    .map((result) => `${result.ok ? 'ok  ' : 'FAIL'}  ${result.check.padEnd(width)}  ${result.detail}`)
    .join('\n');
}
