/**
 * The failover drill (`cias lab drill`): on a lab running a cluster.yaml, write checksummed data into
 * MooseFS, crash the master (SIGKILL keepalived and mfsmaster, links down), measure how long the VIP,
 * mfsmaster and the chunkservers take to come back on the next node, read every byte back, bring the
 * crashed node back and switch the master role to it by hand (scenario 4), remove a node from the
 * file and re-apply (scenario 5, asserted from the recorded Proxmox calls), and check that
 * re-applying plans no change. Timings are reported, not asserted: the targets live in the README's
 * benchmark notes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { mfscliAddresses } from './check';
import { addressHolders, nodeProcessesNamed } from './daemons';
import { writeClusterFileWithoutNode } from './drill-cluster';
import { ChecksummedFile, DataCheck, dataIntact, DrillDataSpec, verifyDataSet, writeDataSet, writeOneFile } from './drill-data';
import { LabCommandError, run, sleep } from './exec';
import { applyHostsStack, hostsStackIsConverged, labOptionsForClusterFile } from './hosts-deploy';
import { Lab, openLab } from './lab';
import { LabPaths, labPaths } from './paths';
import { powerOnNode } from './power';
import { readShimCalls, ShimCall } from './shim-log';
import { isAlive, readState } from './state';
import { labDown } from './teardown';
import { labUp } from './index';

/** The repository's small lab cluster. */
export const DEFAULT_DRILL_CLUSTER = path.join(__dirname, 'cluster.lab.yaml');

/**
 * Lab disk size for a drill. The deployed chunkservers keep HDD_LEAVE_SPACE_DEFAULT (5 GiB,
 * render/moosefs.ts) free on every disk, so the lab's default 4 GiB disks offer MooseFS nothing and
 * every write fails with ENOSPC; 12 GiB sparse files leave 7 GiB each and cost only what is written.
 */
export const DRILL_DISK_MIB = 12_288;

/** `labUp` options for rehearsing `clusterFile` with disks MooseFS can write to. */
export async function drillLabOptions(clusterFile: string): Promise<Awaited<ReturnType<typeof labOptionsForClusterFile>>> {
  const options = await labOptionsForClusterFile(clusterFile);
  return { ...options, network: { ...options.network, diskSizeMiB: Math.max(options.network.diskSizeMiB ?? 0, DRILL_DISK_MIB) } };
}

/** The timing target (README, benchmarks): VIP, mfsmaster and every surviving chunkserver back. */
export const FAILOVER_TARGET_SECONDS = 10;

export interface DrillOptions {
  /** The cluster to rehearse; a running lab must be this cluster. @default {@link DEFAULT_DRILL_CLUSTER} */
  readonly clusterFile?: string;
  /** @default {@link labPaths}() */
  readonly paths?: LabPaths;
  /** Progress lines. @default silent */
  readonly log?: (line: string) => void;
  /** Leave a lab the drill brought up running at the end. @default false */
  readonly keep?: boolean;
  /** The data set (sizes, counts). @default 4 files of 64 MiB and 300 files of 1–10 KiB */
  readonly data?: Omit<DrillDataSpec, 'dir'>;
  /** How long each awaited change may take before the step fails. @default 90000 */
  readonly deadlineMs?: number;
  /** The node the master role is switched to by hand. @default the cluster's bootstrap node */
  readonly switchTo?: string;
  /**
   * The node removed from the cluster file. @default the weak node when there is one, else the last
   * node that is neither the master nor the switch target
   */
  readonly leaveNode?: string;
  /**
   * How long the node leave may take: the node powers off one minute after leaving, then the master
   * removes it once it stops answering (polled every 10 s). @default 240000
   */
  readonly leaveDeadlineMs?: number;
}

export interface DrillStep {
  readonly step: string;
  readonly seconds: number;
  readonly ok: boolean;
  readonly detail: string;
}

export interface FailoverTimings {
  readonly crashedMaster: string;
  readonly newMaster?: string;
  /** Seconds from the crash until the VIP was on exactly one surviving, master-capable node. */
  readonly vipSeconds?: number;
  /** … until mfsmaster ran there and answered `mfscli -SIN` through the VIP. */
  readonly mfsmasterSeconds?: number;
  /** … until every surviving chunkserver was registered with it. */
  readonly chunkserversSeconds?: number;
  /** … until /mnt/mfs answered on every surviving node. */
  readonly mountSeconds?: number;
  readonly chunkserversExpected: number;
  /** Exit code of keepalived_to_master.sh on the new master (`/var/lib/cias/failover.last`). */
  readonly failoverScriptExit?: number;
}

export interface DrillTarget {
  readonly description: string;
  readonly seconds?: number;
  readonly met: boolean;
}

export interface DrillReport {
  readonly ok: boolean;
  readonly clusterFile: string;
  readonly startedAt: string;
  readonly totalSeconds: number;
  readonly broughtLabUp: boolean;
  readonly steps: readonly DrillStep[];
  readonly failover?: FailoverTimings;
  readonly filesWritten: number;
  readonly bytesWritten: number;
  readonly dataChecks: readonly DataCheck[];
  /** True when the weak (never-master) node was ever seen holding the VIP. */
  readonly weakNodeHeldVip: boolean;
  readonly target: DrillTarget;
  /** Proxmox shim calls (and systemctl/shutdown) recorded during the drill, by command. */
  readonly callsByCommand: Readonly<Record<string, number>>;
  /** The calls scenario 5 is judged by: migrations and `pvecm delnode`. */
  readonly leaveCalls: readonly ShimCall[];
  /** Why the drill stopped early, when it did. */
  readonly error?: string;
}

class StepFailed extends Error {}

const seconds = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e9;
const round = (value: number | undefined): string => (value === undefined ? '—' : value.toFixed(1));

function mfscli(vip: string, set: string, timeoutMs = 3000) {
  return run('mfscli', ['-H', vip, '-p', '-n', `-S${set}`], { allowFailure: true, timeoutMs });
}

function registeredChunkservers(vip: string): string[] | undefined {
  const result = mfscli(vip, 'CS');
  return result.status === 0 ? mfscliAddresses(result.stdout, 'chunk servers') : undefined;
}

function registeredMetaloggers(vip: string): string[] | undefined {
  const result = mfscli(vip, 'MB');
  return result.status === 0 ? mfscliAddresses(result.stdout, 'metadata backup loggers') : undefined;
}

function runsDaemon(lab: Lab, node: string, comm: string): boolean {
  const record = lab.state().nodes[node];
  return record !== undefined && isAlive(record.init) && nodeProcessesNamed(record, comm).length > 0;
}

function mountAnswers(lab: Lab, node: string, dir: string): boolean {
  return lab.exec(node, ['timeout', '5', 'stat', '-t', dir], { allowFailure: true, timeoutMs: 10_000 }).status === 0;
}

/** `<epoch> <exit>` of the failover script's last run on `node`, when it finished at or after `since`. */
function failoverOutcome(lab: Lab, node: string, sinceEpoch: number): number | undefined {
  const text = lab.readFile(node, '/var/lib/cias/failover.last');
  const match = text ? /^(\d+) (\d+)/.exec(text) : null;
  return match && Number(match[1]) >= sinceEpoch ? Number(match[2]) : undefined;
}

/** The last lines of a node's cias.log, on one line, for a failed step's detail. */
function logTail(lab: Lab, node: string, lines: number): string {
  const text = lab.readFile(node, '/var/log/cias.log') ?? '';
  return text.trim().split('\n').slice(-lines).join(' ⏎ ') || '(empty)';
}

/** Polls `probe` every `intervalMs` until it returns a value; undefined after `deadlineMs`. */
async function poll<T>(probe: () => T | undefined, deadlineMs: number, intervalMs = 100): Promise<{ value: T; seconds: number } | undefined> {
  const started = process.hrtime.bigint();
  for (;;) {
    let value: T | undefined;
    try {
      value = probe();
    } catch {
      value = undefined;
    }
    if (value !== undefined) return { value, seconds: seconds(started) };
    if (seconds(started) * 1000 > deadlineMs) return undefined;
    await sleep(intervalMs);
  }
}

function labIsUp(paths: LabPaths): boolean {
  const state = readState(paths);
  return Object.values(state?.nodes ?? {}).some((node) => isAlive(node.init));
}

/** Runs the drill; never throws for a failed step (the report says what failed), only for cleanup. */
export async function runDrill(options: DrillOptions = {}): Promise<DrillReport> {
  const paths = options.paths ?? labPaths();
  const clusterFile = path.resolve(options.clusterFile ?? DEFAULT_DRILL_CLUSTER);
  const log = options.log ?? (() => undefined);
  const deadlineMs = options.deadlineMs ?? 90_000;
  const startedAt = new Date();
  const started = process.hrtime.bigint();
  const steps: DrillStep[] = [];
  const dataChecks: DataCheck[] = [];
  let written: ChecksummedFile[] = [];
  let failover: FailoverTimings | undefined;
  let weakNodeHeldVip = false;
  let broughtLabUp = false;
  let error: string | undefined;
  let leaveCalls: ShimCall[] = [];
  const callsByCommand: Record<string, number> = {};

  const step = async (name: string, body: () => Promise<{ ok: boolean; detail: string }>): Promise<void> => {
    const stepStarted = process.hrtime.bigint();
    log(`— ${name}`);
    let outcome: { ok: boolean; detail: string };
    try {
      outcome = await body();
    } catch (caught) {
      const message = caught instanceof LabCommandError ? `${caught.command.slice(-3).join(' ')}: ${(caught.result.stderr || caught.result.stdout).trim().split('\n').slice(-2).join(' / ')}` : (caught as Error).message;
      steps.push({ step: name, seconds: seconds(stepStarted), ok: false, detail: message.split('\n')[0] });
      throw new StepFailed(`${name}: ${message}`);
    }
    steps.push({ step: name, seconds: seconds(stepStarted), ok: outcome.ok, detail: outcome.detail });
    log(`  ${outcome.ok ? 'ok' : 'FAIL'} (${round(seconds(stepStarted))} s): ${outcome.detail}`);
  };

  try {
    if (!labIsUp(paths)) {
      await step(`lab up ${path.basename(clusterFile)}`, async () => {
        broughtLabUp = true;
        const { check } = await labUp({ ...(await drillLabOptions(clusterFile)), paths, log: (line) => log(`  ${line}`) });
        return { ok: check?.ok ?? false, detail: `deployed with terraform; master ${check?.master ?? 'none'}` };
      });
    }
    const lab = openLab(paths);
    const topology = lab.topology;
    const { loadClusterFile } = await import('../model/load');
    const { model } = loadClusterFile(clusterFile);
    const fileNodes = model.nodes.map((node) => node.name).sort();
    const labNodes = topology.nodes.map((node) => node.name).sort();
    if (fileNodes.join(' ') !== labNodes.join(' ')) {
      throw new StepFailed(`the running lab (${labNodes.join(', ')}) is not ${clusterFile} (${fileNodes.join(', ')}): run lab down first`);
    }
    const weakNodes = topology.nodes.filter((node) => !node.canBeMaster).map((node) => node.name);
    const watchVip = (): string[] => {
      const holders = addressHolders(topology, topology.vip);
      if (holders.some((holder) => weakNodes.includes(holder))) weakNodeHeldVip = true;
      return holders;
    };
    const bootstrap = model.bootstrap.name;
    const switchTo = options.switchTo ?? bootstrap;
    const dataDir = `/mnt/mfs/cias-drill/${startedAt.toISOString().replace(/[:.]/g, '-')}`;

    const holders = watchVip();
    if (holders.length !== 1) throw new StepFailed(`expected one master before the drill, the VIP is on ${holders.join(', ') || 'no node'}`);
    const master = holders[0];
    const writer = weakNodes.find((node) => node !== master) ?? topology.nodes.find((node) => node.name !== master)?.name;
    if (!writer) throw new StepFailed('the drill needs at least two nodes');

    const leaving =
      options.leaveNode ??
      weakNodes.find((node) => node !== master && node !== switchTo) ??
      [...topology.nodes].reverse().find((node) => node.name !== master && node.name !== switchTo)?.name;
    if (!leaving) throw new StepFailed('no node can leave: every node is the master or the switch target');
    const leavingModel = model.nodes.find((node) => node.name === leaving);
    if (!leavingModel) throw new StepFailed(`${leaving} is not in ${clusterFile}`);
    const tenantVmid = 101;
    const gatewayVmid = model.gateway?.vmid ?? 100;
    await step(`guests: gateway VM ${gatewayVmid} on ${master}, VM ${tenantVmid} on ${leaving}`, async () => {
      // Running guests (in the Proxmox shims, disks on the shared MooseFS storage): the failover must
      // bring the gateway to the new master and leave the tenant alone; scenario 5 must migrate the tenant.
      const guest = (node: string, vmid: number, name: string, memoryMb: number) =>
        lab.exec(node, [SHIM_ADMIN, 'vm', node, String(vmid), '--name', name, '--memory-mb', String(memoryMb), '--onboot', '1', '--status', 'running', '--disk', `a_mfs:${vmid}/vm-${vmid}-disk-0.qcow2`]);
      guest(master, gatewayVmid, 'cias-router', 2048);
      guest(leaving, tenantVmid, 'tenant', 512);
      const gateway = vmPlacement(lab, master, gatewayVmid);
      const tenant = vmPlacement(lab, master, tenantVmid);
      return {
        ok: gateway?.node === master && tenant?.node === leaving && gateway.status === 'running' && tenant.status === 'running',
        detail: `registered with the Proxmox shims: ${gatewayVmid} ${gateway?.status} on ${gateway?.node}, ${tenantVmid} ${tenant?.status} on ${tenant?.node}`,
      };
    });

    // 1. Data.
    await step('write data', async () => {
      written = writeDataSet(lab, writer, { ...options.data, dir: dataDir });
      const bytes = written.reduce((sum, file) => sum + file.bytes, 0);
      const expected = (options.data?.largeFiles ?? 4) + (options.data?.smallFiles ?? 300);
      return { ok: written.length === expected, detail: `${written.length} files, ${mib(bytes)} through ${writer}:${dataDir}` };
    });

    // 2–3. Crash the master and measure.
    const crashed = lab.plan(master);
    const survivors = topology.nodes.filter((node) => node.name !== master).map((node) => node.name);
    const survivorIps = topology.nodes.filter((node) => node.name !== master).map((node) => node.ip);
    let crashEpoch = 0;
    await step(`crash master ${master}`, async () => {
      const record = lab.node(master);
      const { signalNodeProcesses } = await import('./daemons');
      crashEpoch = Math.floor(Date.now() / 1000);
      const crashStarted = process.hrtime.bigint();
      const killedKeepalived = signalNodeProcesses(record, 'keepalived', 'SIGKILL');
      const killedMaster = signalNodeProcesses(record, 'mfsmaster', 'SIGKILL');
      for (const ifname of new Set([crashed.lan.name, crashed.wan.name])) run('ip', ['-n', crashed.namespace, 'link', 'set', ifname, 'down']);
      // The shims have no corosync: they learn that the node is gone from us, as members would within seconds.
      setPveOnline(lab, writer, master, false);
      const timings: { -readonly [K in keyof FailoverTimings]: FailoverTimings[K] } = {
        crashedMaster: master,
        chunkserversExpected: survivorIps.length,
      };
      failover = timings;
      const finished = await poll(() => {
        const elapsed = seconds(crashStarted);
        const surviving = watchVip().filter((holder) => holder !== master);
        if (timings.vipSeconds === undefined && surviving.length === 1 && lab.plan(surviving[0]).canBeMaster) {
          timings.vipSeconds = elapsed;
          timings.newMaster = surviving[0];
        }
        const next = timings.newMaster;
        if (next && timings.mfsmasterSeconds === undefined && runsDaemon(lab, next, 'mfsmaster') && mfscli(topology.vip, 'IN').status === 0) {
          timings.mfsmasterSeconds = seconds(crashStarted);
        }
        if (next && timings.mfsmasterSeconds !== undefined && timings.chunkserversSeconds === undefined) {
          const registered = registeredChunkservers(topology.vip);
          if (registered && survivorIps.every((ip) => registered.includes(ip))) timings.chunkserversSeconds = seconds(crashStarted);
        }
        if (next && timings.mfsmasterSeconds !== undefined && timings.mountSeconds === undefined) {
          if (survivors.every((node) => mountAnswers(lab, node, dataDir))) timings.mountSeconds = seconds(crashStarted);
        }
        const done = [timings.vipSeconds, timings.mfsmasterSeconds, timings.chunkserversSeconds, timings.mountSeconds].every((value) => value !== undefined);
        return done ? true : undefined;
      }, deadlineMs, 50);
      const killed = `SIGKILL keepalived ${killedKeepalived.length > 0 ? 'ok' : 'NOT RUNNING'}, mfsmaster ${killedMaster.length > 0 ? 'ok' : 'NOT RUNNING'}, links down`;
      if (!finished) {
        return {
          ok: false,
          detail: `${killed}; within ${deadlineMs / 1000} s: VIP ${round(timings.vipSeconds)} s on ${timings.newMaster ?? 'no node'}, mfsmaster ${round(timings.mfsmasterSeconds)} s, chunkservers ${round(timings.chunkserversSeconds)} s, mounts ${round(timings.mountSeconds)} s`,
        };
      }
      const next = timings.newMaster as string;
      const outcome = await poll(() => failoverOutcome(lab, next, crashEpoch), deadlineMs, 250);
      timings.failoverScriptExit = outcome?.value;
      const okScript = outcome?.value === 0;
      const gateway = vmPlacement(lab, next, gatewayVmid);
      const tenant = vmPlacement(lab, next, tenantVmid);
      const guestsOk = gateway?.node === next && gateway.status === 'running' && tenant?.node === leaving && tenant.status === 'running';
      return {
        ok: okScript && guestsOk && killedKeepalived.length > 0 && killedMaster.length > 0,
        detail:
          `${killed}; ${next} took over; keepalived_to_master.sh exit ${outcome ? outcome.value : 'not finished'}; ` +
          `gateway VM ${gatewayVmid} ${gateway?.status ?? 'missing'} on ${gateway?.node ?? 'no node'}, VM ${tenantVmid} ${tenant?.status ?? 'missing'} on ${tenant?.node ?? 'no node'}` +
          (okScript ? '' : `; last of /var/log/cias.log on ${next}: ${logTail(lab, next, 12)}`),
      };
    });
    const f = failover as FailoverTimings | undefined;
    const newMaster = f?.newMaster as string;
    if (f) {
      steps.push({ step: `  VIP on ${newMaster}`, seconds: f.vipSeconds ?? NaN, ok: f.vipSeconds !== undefined, detail: 'after the crash' });
      steps.push({ step: '  mfsmaster answers', seconds: f.mfsmasterSeconds ?? NaN, ok: f.mfsmasterSeconds !== undefined, detail: 'restored with mfsmaster -a from the metalogger' });
      steps.push({ step: `  ${f.chunkserversExpected} chunkservers back`, seconds: f.chunkserversSeconds ?? NaN, ok: f.chunkserversSeconds !== undefined, detail: survivorIps.join(', ') });
      steps.push({ step: '  /mnt/mfs answers on survivors', seconds: f.mountSeconds ?? NaN, ok: f.mountSeconds !== undefined, detail: survivors.join(', ') });
    }

    await step(`read back on ${newMaster}`, async () => {
      const check = verifyDataSet(lab, newMaster, dataDir, written);
      dataChecks.push(check);
      return { ok: dataIntact(check), detail: dataCheckDetail(check) };
    });

    let extraFile: ChecksummedFile | undefined;
    await step('new write after failover', async () => {
      extraFile = writeOneFile(lab, newMaster, dataDir, 'after-failover.bin', 16 * 1048576);
      const check = verifyDataSet(lab, writer, dataDir, [extraFile]);
      return { ok: dataIntact(check), detail: `16 MiB written on ${newMaster}, read back on ${writer}: ${dataIntact(check) ? 'identical' : 'DIFFERENT'}` };
    });

    // The crashed machine is reset (power cut) and boots again.
    await step(`power-cycle ${master}`, async () => {
      const record = lab.node(master);
      if (record.init && isAlive(record.init)) process.kill(record.init.pid, 'SIGKILL');
      const off = await poll(() => (isAlive(lab.node(master).init) ? undefined : true), deadlineMs);
      if (!off) return { ok: false, detail: 'PID 1 did not end after SIGKILL' };
      await powerOnNode(paths, crashed, topology.wanGateway);
      setPveOnline(lab, newMaster, master, true);
      const units = ['keepalived', 'moosefs-metalogger', 'moosefs-chunkserver'];
      const failedUnits = () => units.filter((unit) => lab.exec(master, ['systemctl', 'is-failed', '--quiet', unit], { allowFailure: true }).status === 0);
      const missing = (): string[] => {
        const registered = registeredChunkservers(topology.vip) ?? [];
        const loggers = registeredMetaloggers(topology.vip) ?? [];
        return [
          ...(runsDaemon(lab, master, 'keepalived') ? [] : ['keepalived not running']),
          ...(registered.includes(crashed.ip) ? [] : ['chunkserver not registered']),
          ...(loggers.includes(crashed.ip) ? [] : ['metalogger not registered']),
          ...(mountAnswers(lab, master, dataDir) ? [] : ['/mnt/mfs not answering']),
        ];
      };
      // A unit that failed at boot stays down (no Restart= in the lab): stop waiting for it.
      const back = await poll(() => (missing().length === 0 ? true : failedUnits().length > 0 ? false : undefined), deadlineMs, 250);
      const vipHolders = watchVip();
      const staleMaster = runsDaemon(lab, master, 'mfsmaster');
      if (back?.value !== true) {
        const failed = failedUnits();
        const why = failed.map((unit) => `${unit} failed at boot (${lastLogLine(lab, master, unit)})`);
        return { ok: false, detail: `${master} did not rejoin: ${[...missing(), ...why].join('; ')}` };
      }
      return {
        ok: vipHolders.length === 1 && vipHolders[0] === newMaster && !staleMaster,
        detail: `rejoined as backup: chunkserver and metalogger registered, /mnt/mfs mounted; VIP stays on ${vipHolders.join(', ')}${staleMaster ? '; mfsmaster STARTED on the rebooted node' : ''}`,
      };
    });

    // 4a. Manual switch back (scenario 4).
    await step(`manual switch to ${switchTo}`, async () => {
      // The metalogger must hold the metadata of the running master before it becomes the restore source.
      await poll(() => metaloggerCaughtUp(lab, switchTo, crashEpoch), deadlineMs, 500);
      const result = lab.exec(switchTo, ['/usr/local/sbin/dlll_cias-switch_to_master.sh'], { allowFailure: true, timeoutMs: 600_000 });
      const settled = await poll(() => {
        const vip = watchVip();
        const external = addressHolders(topology, topology.masterExternalIp);
        const mfsmasters = topology.nodes.filter((node) => runsDaemon(lab, node.name, 'mfsmaster')).map((node) => node.name);
        return vip.join() === switchTo && external.join() === switchTo && mfsmasters.join() === switchTo ? true : undefined;
      }, 20_000, 250);
      const mfsmasters = topology.nodes.filter((node) => runsDaemon(lab, node.name, 'mfsmaster')).map((node) => node.name);
      const registered = registeredChunkservers(topology.vip) ?? [];
      const gateway = vmPlacement(lab, switchTo, gatewayVmid);
      return {
        ok: result.status === 0 && settled !== undefined && gateway?.node === switchTo && gateway.status === 'running',
        detail:
          `dlll_cias-switch_to_master.sh exit ${result.status}; VIP on ${watchVip().join(', ') || 'no node'}, ` +
          `external IP on ${addressHolders(topology, topology.masterExternalIp).join(', ') || 'no node'}, mfsmaster on ${mfsmasters.join(', ') || 'no node'}, ` +
          `${registered.length} of ${topology.nodes.length} chunkservers registered; gateway VM ${gatewayVmid} ${gateway?.status ?? 'missing'} on ${gateway?.node ?? 'no node'}`,
      };
    });

    const verifier = topology.nodes.find((node) => node.name !== switchTo && node.name !== writer)?.name ?? writer;
    await step(`read back on ${verifier} after the switch`, async () => {
      const check = verifyDataSet(lab, verifier, dataDir, [...written, ...(extraFile ? [extraFile] : [])]);
      dataChecks.push(check);
      return { ok: dataIntact(check), detail: dataCheckDetail(check) };
    });

    // 4b. Node leave (scenario 5): the node goes from the file and the hosts stack is re-applied.
    const currentMaster = watchVip()[0] ?? switchTo;
    const leaveFile = path.join(paths.dataDir, 'drill', 'cluster.yaml');
    await step(`node leave ${leaving}`, async () => {
      fs.mkdirSync(path.dirname(leaveFile), { recursive: true });
      writeClusterFileWithoutNode(clusterFile, leaveFile, { ip: leavingModel.ip, fqdn: leavingModel.fqdn }, startedAt.toISOString().slice(0, 10));
      const leaveStarted = Date.now();
      await applyHostsStack(lab, leaveFile, (line) => log(`  ${line}`));
      const since = (call: ShimCall) => Date.parse(call.ts) >= leaveStarted;
      // The destroy-time provisioner runs cias-node-leave on the node, which logs to its cias.log.
      const leaveRan = (lab.readFile(leaving, '/var/log/cias.log') ?? '').includes('cias-node-leave[');
      const deleted = leaveRan
        ? await poll(
            () => readShimCalls(paths).find((call) => since(call) && call.cmd === 'pvecm' && call.argv[0] === 'delnode' && call.argv[1] === leaving),
            options.leaveDeadlineMs ?? 240_000,
            1000,
          )
        : undefined;
      leaveCalls = readShimCalls(paths).filter(
        (call) => since(call) && ((call.cmd === 'pvecm' && call.argv[0] === 'delnode') || call.argv.some((arg) => /\/migrate$/.test(arg)) || (call.cmd === 'qm' && call.argv[0] === 'migrate')),
      );
      const migration = leaveCalls.find((call) => call.node === leaving && call.argv.includes(`/nodes/${leaving}/qemu/${tenantVmid}/migrate`));
      const vmNow = lab.exec(currentMaster, ['pvesh', 'get', '/cluster/resources', '--type', 'vm', '--output-format', 'json'], { allowFailure: true });
      const vmNode = vmNow.status === 0 ? (JSON.parse(vmNow.stdout) as { vmid: number; node: string }[]).find((vm) => vm.vmid === tenantVmid)?.node : undefined;
      const off = !isAlive(lab.node(leaving).init);
      const retired = lab.exec(currentMaster, ['cat', '/mnt/mfs/cias/retired.conf'], { allowFailure: true }).stdout;
      const ok = deleted !== undefined && deleted.value.node === currentMaster && migration !== undefined && vmNode !== undefined && vmNode !== leaving && off && retired.includes(leavingModel.ip);
      return {
        ok,
        detail:
          `${leaveRan ? 'cias-node-leave ran' : `cias-node-leave NEVER RAN on ${leaving} (terraform destroyed its leave resource without the destroy-time provisioner)`}; ` +
          `VM ${tenantVmid} ${migration ? `migrated (${migration.cmd} ${migration.argv.join(' ')})` : 'NOT migrated'} → now on ${vmNode ?? 'unknown'}; ` +
          `${deleted ? `pvecm delnode ${leaving} on ${deleted.value.node}` : 'NO pvecm delnode'}; ${leaving} ${off ? 'powered off' : 'STILL ON'}; ` +
          `${retired.includes(leavingModel.ip) ? 'recorded in retired.conf' : 'NOT in retired.conf'}`,
      };
    });

    // 5. Re-apply unchanged.
    await step('re-apply unchanged: plan', async () => {
      const converged = await hostsStackIsConverged(lab, leaveFile);
      return { ok: converged, detail: converged ? 'terraform plan -detailed-exitcode: no changes' : 'terraform plan shows CHANGES' };
    });
  } catch (caught) {
    error = caught instanceof StepFailed ? caught.message : (caught as Error).stack ?? String(caught);
    log(`drill stopped: ${error}`);
  } finally {
    // Counted before lab down removes the log.
    try {
      for (const call of shimCallsSince(paths, startedAt)) callsByCommand[call.cmd] = (callsByCommand[call.cmd] ?? 0) + 1;
    } catch (caught) {
      log(`could not read the shim call log: ${(caught as Error).message}`);
    }
    if (broughtLabUp && !options.keep) {
      log('— lab down');
      const down = process.hrtime.bigint();
      await labDown({ paths });
      steps.push({ step: 'lab down', seconds: seconds(down), ok: true, detail: 'namespaces, processes and disks removed' });
    }
  }

  const f = failover as FailoverTimings | undefined;
  const worst = f && [f.vipSeconds, f.mfsmasterSeconds, f.chunkserversSeconds].every((value) => value !== undefined)
    ? Math.max(f.vipSeconds as number, f.mfsmasterSeconds as number, f.chunkserversSeconds as number)
    : undefined;
  return {
    ok: error === undefined && steps.every((entry) => entry.ok) && !weakNodeHeldVip,
    clusterFile,
    startedAt: startedAt.toISOString(),
    totalSeconds: seconds(started),
    broughtLabUp,
    steps,
    failover: f,
    filesWritten: written.length,
    bytesWritten: written.reduce((sum, file) => sum + file.bytes, 0),
    dataChecks,
    weakNodeHeldVip,
    target: {
      description: `VIP + mfsmaster + all chunkservers back within ${FAILOVER_TARGET_SECONDS} s of the crash`,
      seconds: worst,
      met: worst !== undefined && worst <= FAILOVER_TARGET_SECONDS,
    },
    callsByCommand,
    leaveCalls,
    error,
  };
}

function shimCallsSince(paths: LabPaths, since: Date): ShimCall[] {
  return readShimCalls(paths).filter((call) => Date.parse(call.ts) >= since.getTime());
}

/** The metalogger on `node` has fetched the metadata since `sinceEpoch` (it does on every connect). */
function metaloggerCaughtUp(lab: Lab, node: string, sinceEpoch: number): true | undefined {
  const result = lab.exec(node, ['bash', '-c', 'stat -c %Y /var/lib/mfs/metadata_ml.mfs.back 2>/dev/null'], { allowFailure: true });
  return result.status === 0 && Number(result.stdout.trim()) >= sinceEpoch ? true : undefined;
}

const SHIM_ADMIN = '/usr/lib/cias-lab/shims/cias-shim-admin';

/** Tells the Proxmox shims (through a running node) what corosync would see: a node gone or back. */
function setPveOnline(lab: Lab, via: string, node: string, online: boolean): void {
  lab.exec(via, [SHIM_ADMIN, 'node', node, '--online', online ? '1' : '0']);
}

/** "node status" of a guest in the fake cluster, seen from `via`. */
function vmPlacement(lab: Lab, via: string, vmid: number): { node: string; status: string } | undefined {
  const result = lab.exec(via, ['pvesh', 'get', '/cluster/resources', '--type', 'vm', '--output-format', 'json'], { allowFailure: true });
  if (result.status !== 0) return undefined;
  const vm = (JSON.parse(result.stdout) as { vmid: number; node: string; status: string }[]).find((entry) => entry.vmid === vmid);
  return vm && { node: vm.node, status: vm.status };
}

/** Why a unit stopped, from `/var/log/cias-lab/<unit>.service.log` inside the node: its first error line. */
function lastLogLine(lab: Lab, node: string, unit: string): string {
  const lines = (lab.readFile(node, `/var/log/cias-lab/${unit}.service.log`) ?? '').split('\n').filter((line) => line.trim().length > 0);
  const cause = [...lines].reverse().find((line) => /can't|cannot|denied|EACCES|ENOENT|no such/i.test(line) && !/^\w+\[\d+\]:/.test(line));
  return cause ?? (lines.slice(-2).join(' / ') || 'no log');
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

function dataCheckDetail(check: DataCheck): string {
  return (
    `${check.filesChecked} files, ${mib(check.bytesChecked)} identical` +
    `${check.mismatched.length ? `; ${check.mismatched.length} DIFFERENT (${check.mismatched.slice(0, 3).join(', ')})` : ''}` +
    `${check.missing.length ? `; ${check.missing.length} UNREADABLE (${check.missing.slice(0, 3).join(', ')})` : ''}`
  );
}

/** The report as Markdown: the steps, the data, the calls, the timing target. */
export function formatDrillReport(report: DrillReport): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const lines = [
    `# cias lab drill — ${report.startedAt}`,
    '',
    `Cluster: \`${report.clusterFile}\` · result: **${report.ok ? 'PASS' : 'FAIL'}** · ${round(report.totalSeconds)} s in all`,
    '',
    '| step | seconds | result | detail |',
    '|---|---:|---|---|',
    ...report.steps.map((entry) => `| ${cell(entry.step.replace(/^ {2}/, '↳ '))} | ${Number.isNaN(entry.seconds) ? '—' : round(entry.seconds)} | ${entry.ok ? 'ok' : 'FAIL'} | ${cell(entry.detail)} |`),
    '',
    '| data | value |',
    '|---|---:|',
    `| files written | ${report.filesWritten} |`,
    `| bytes written | ${report.bytesWritten} (${mib(report.bytesWritten)}) |`,
    ...report.dataChecks.map(
      (check) => `| read back on ${check.node}: files / bytes / different / unreadable | ${check.filesChecked} / ${check.bytesChecked} / ${check.mismatched.length} / ${check.missing.length} |`,
    ),
    `| weak node ever held the VIP | ${report.weakNodeHeldVip ? 'YES' : 'no'} |`,
    '',
    '| recorded calls | count |',
    '|---|---:|',
    ...Object.entries(report.callsByCommand)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([cmd, count]) => `| ${cmd} | ${count} |`),
    '',
  ];
  if (report.leaveCalls.length > 0) {
    lines.push('Scenario 5 calls:', '', ...report.leaveCalls.map((call) => `- ${call.node}: \`${call.cmd} ${call.argv.join(' ')}\``), '');
  }
  lines.push(`Target: ${report.target.description}: **${report.target.met ? 'met' : 'not met'}** (${round(report.target.seconds)} s)`);
  if (report.error) lines.push('', `Stopped early: ${report.error.split('\n')[0]}`);
  return `${lines.join('\n')}\n`;
}

/** Writes `report.md` and `report.json` into `dir`; returns their paths. */
export function writeDrillReport(report: DrillReport, dir = 'lab-report'): { markdown: string; json: string } {
  fs.mkdirSync(dir, { recursive: true });
  const markdown = path.join(dir, 'report.md');
  const json = path.join(dir, 'report.json');
  fs.writeFileSync(markdown, formatDrillReport(report));
  fs.writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  return { markdown, json };
}
