/**
 * The lab: a DLLL-CIAS cluster rehearsed on one machine. Each node is a network namespace with its
 * own mount/PID/UTS namespaces and root filesystem, running the real Debian daemons; Proxmox commands
 * and systemctl are shims that record every call. The CLI (`cias lab up|status|down`) calls
 * {@link labUp}, {@link labStatus} and {@link labDown}; lab/README.md describes the whole setup.
 */
import { checkLab, formatCheckReport, LabCheckOptions, LabCheckReport } from './check';
import { run } from './exec';
import { LabDeployer } from './deploy';
import { Lab, openLab } from './lab';
import { buildLayer, createSharedDir } from './layer';
import { createNodeDisks } from './disks';
import { createNetwork } from './netns';
import { knownHostsLines, nodeFiles } from './node-files';
import { bootNode, createNodeDirs, generateKey, generateNodeKeys, NodeKeys, writeNodeFiles } from './node-host';
import { withLabLock } from './lock';
import { LabPaths, labPaths } from './paths';
import { registerPveNodes } from './pve';
import { waitForSsh, writeKnownHosts } from './ssh';
import { isAlive, newState, readState, writeState } from './state';
import { labDown } from './teardown';
import { DEFAULT_LAB_NODES, LabNodeSpec, LabTopologyInput, planTopology } from './topology';

export { checkLab, formatCheckReport } from './check';
export type { LabCheckOptions, LabCheckReport, LabCheckResult } from './check';
export { terraformApply, terraformDeployer, terraformInit, terraformPlanIsEmpty } from './deploy';
export type { LabDeployer, TerraformDeployerOptions, TerraformOptions } from './deploy';
export { addressHolders, nodeProcesses, nodeProcessesNamed, nodeSystemctl, signalNodeProcesses } from './daemons';
export { openLab } from './lab';
export type { Lab } from './lab';
export { labClusterText, labLayoutFromModel, LabClusterError } from './cluster';
export type { LabClusterLayout } from './cluster';
export { applyHostsStack, hostsStackDeployer, hostsStackIsConverged, labOptionsForClusterFile, labTerraformEnv } from './hosts-deploy';
export { bootNode } from './node-host';
export { powerOffNode, powerOnNode } from './power';
export { labPaths, NAMESPACE_PREFIX, NODE_SHIM_LOG, NODE_SHIM_STATE } from './paths';
export type { LabPaths } from './paths';
export { readShimCalls } from './shim-log';
export type { ShimCall } from './shim-log';
export { formatLabStatus, labStatus } from './status';
export type { LabNodeStatus, LabStatus } from './status';
export { LabBusyError } from './lock';
export { labDown } from './teardown';
export type { LabDownOptions, LabDownReport } from './teardown';
export { DEFAULT_LAB_NODES, planTopology } from './topology';
export type { LabNodePlan, LabNodeSpec, LabTopology, LabTopologyInput } from './topology';

export interface LabUpOptions {
  /** @default {@link DEFAULT_LAB_NODES}: two master-capable nodes and one weak node */
  readonly nodes?: readonly LabNodeSpec[];
  /** WAN, VIP, root leg and probe addresses. @default see {@link LabTopologyInput} */
  readonly network?: Omit<LabTopologyInput, 'nodes'>;
  /** Installs the cluster into the booted nodes. @default none: nodes run sshd, cron and rsyslog only */
  readonly deploy?: LabDeployer;
  /** Run {@link checkLab} at the end and fail when it fails. @default true when `deploy` is given */
  readonly verify?: boolean;
  /** @default {} */
  readonly checkOptions?: LabCheckOptions;
  /** Leave a failed lab up for inspection instead of tearing it down. @default false */
  readonly keepOnFailure?: boolean;
  /** @default {@link labPaths}() */
  readonly paths?: LabPaths;
  /** Progress lines. @default silent */
  readonly log?: (message: string) => void;
}

export interface LabUpResult {
  readonly lab: Lab;
  /** The final check, when it ran. */
  readonly check?: LabCheckReport;
}

export class LabCheckFailed extends Error {
  constructor(readonly report: LabCheckReport) {
    super(`lab check failed:\n${formatCheckReport(report)}`);
    this.name = 'LabCheckFailed';
  }
}

const REQUIRED_COMMANDS = ['ip', 'setfattr', 'losetup', 'unshare', 'nsenter', 'pivot_root', 'setpriv', 'ssh', 'ssh-keygen', 'sshd', 'cron', 'rsyslogd'];

function preflight(): void {
  if (process.getuid?.() !== 0) throw new Error('the lab needs root (network and mount namespaces)');
  const missing = REQUIRED_COMMANDS.filter(
    (command) => run('sh', ['-c', `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v ${command}`], { allowFailure: true }).status !== 0,
  );
  if (missing.length > 0) throw new Error(`the lab needs ${missing.join(', ')} (run scripts/install-system-deps.sh)`);
}

/** Refuses to replace a running lab; sweeps what a crashed one left. */
async function clearPrevious(paths: LabPaths): Promise<void> {
  let running: string[] = [];
  try {
    const state = readState(paths);
    running = Object.values(state?.nodes ?? {})
      .filter((node) => isAlive(node.init))
      .map((node) => node.name);
  } catch {
    // unreadable state: nothing can be running that we could name; the sweep below cleans up
  }
  if (running.length > 0) throw new Error(`a lab is already up (nodes ${running.join(', ')}): run lab down first`);
  await labDown({ paths });
}

export async function labUp(options: LabUpOptions = {}): Promise<LabUpResult> {
  const paths = options.paths ?? labPaths();
  return withLabLock(paths, () => bringUp(paths, options));
}

async function bringUp(paths: LabPaths, options: LabUpOptions): Promise<LabUpResult> {
  const log = options.log ?? (() => undefined);
  preflight();
  const topology = planTopology({ ...options.network, nodes: options.nodes ?? DEFAULT_LAB_NODES });
  await clearPrevious(paths);
  writeState(paths, newState(topology));
  try {
    log(`network: ${topology.nodes.length} nodes, switch, uplink, root leg ${topology.hostLeg.cidr}`);
    createNetwork(paths, topology);
    buildLayer(paths);
    createSharedDir(paths);
    registerPveNodes(paths, topology);

    const operatorKey = generateKey(paths.operatorKey, 'cias-lab-operator');
    const keys = new Map<string, NodeKeys>();
    for (const node of topology.nodes) {
      createNodeDirs(paths, node);
      createNodeDisks(paths, node, topology.diskSizeMiB);
      keys.set(node.name, generateNodeKeys(paths, node));
    }
    const knownHosts = knownHostsLines(
      topology.nodes.map((plan) => ({ plan, hostKey: (keys.get(plan.name) as NodeKeys).hostKey })),
      topology.vip,
    );
    writeKnownHosts(paths, knownHosts);
    const authorizedKeys = [operatorKey, ...topology.nodes.map((node) => (keys.get(node.name) as NodeKeys).rootKey)];
    for (const node of topology.nodes) writeNodeFiles(paths, node, nodeFiles({ node, peers: topology.nodes, authorizedKeys, knownHosts }));

    log('booting nodes');
    await Promise.all(topology.nodes.map((node) => bootNode(paths, node)));
    await Promise.all(topology.nodes.map((node) => waitForSsh(paths, node.ip)));
    const lab = openLab(paths);

    if (options.deploy) {
      log(`deploying: ${options.deploy.description}`);
      await options.deploy.deploy(lab, log);
    }
    let check: LabCheckReport | undefined;
    if (options.verify ?? options.deploy !== undefined) {
      log('checking');
      check = await checkLab(lab.state(), options.checkOptions);
      if (!check.ok) throw new LabCheckFailed(check);
    }
    return { lab, check };
  } catch (error) {
    if (!options.keepOnFailure) {
      try {
        await labDown({ paths });
      } catch (cleanupError) {
        log(`cleanup after the failure failed too: ${(cleanupError as Error).message}`);
      }
    }
    throw error;
  }
}
