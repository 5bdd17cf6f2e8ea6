/** Power for lab nodes: off as `poweroff` inside does it, on as a machine comes back (fresh PID 1). */
import { run, waitFor } from './exec';
import { bootNode } from './node-host';
import { LabPaths } from './paths';
import { isAlive, NodeRecord, readState } from './state';
import { LabNodePlan } from './topology';

/**
 * Powers a node off the way `poweroff` inside it does (units stopped, links down), waiting for its
 * PID 1 to exit; a power cut (SIGKILL) after `timeoutMs`.
 * @param timeoutMs @default 60000
 */
export async function powerOffNode(record: NodeRecord, timeoutMs = 60_000): Promise<void> {
  if (!isAlive(record.init)) return;
  process.kill(record.init.pid, 'SIGTERM');
  try {
    await waitFor(`node ${record.name} to power off`, () => (isAlive(record.init) ? undefined : true), timeoutMs, 100);
  } catch {
    if (isAlive(record.init)) process.kill(record.init.pid, 'SIGKILL');
  }
}

/**
 * Powers a node on again after a power-off or a power cut: links up, default route back, a fresh
 * PID 1 over the same upper layer (files survive, /run and /tmp start empty), enabled units started.
 */
export async function powerOnNode(paths: LabPaths, node: LabNodePlan, wanGateway: string): Promise<NodeRecord> {
  const record = readState(paths)?.nodes[node.name];
  if (record && isAlive(record.init)) return record;
  // A machine comes back with the addresses of its network config only, not the VIPs it held.
  for (const ifname of new Set([node.lan.name, node.wan.name])) run('ip', ['-n', node.namespace, 'addr', 'flush', 'dev', ifname]);
  run('ip', ['-n', node.namespace, 'addr', 'add', node.lan.cidr as string, 'dev', node.lan.name]);
  run('ip', ['-n', node.namespace, 'addr', 'add', node.wan.cidr as string, 'dev', node.wan.name]);
  for (const ifname of new Set([node.lan.name, node.wan.name])) run('ip', ['-n', node.namespace, 'link', 'set', ifname, 'up']);
  run('ip', ['-n', node.namespace, 'route', 'replace', 'default', 'via', wanGateway, 'dev', node.wan.name]);
  return bootNode(paths, node);
}
