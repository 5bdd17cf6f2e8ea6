/**
 * The lab's fake Proxmox VE: every node registered with the Proxmox shims (lab/shims) before it
 * boots — its address and the root password `pvecm add` checks — and /etc/pve inside the node
 * pointing at the node's view of the shared fake cluster, as the shims' README asks.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { run } from './exec';
import { LabPaths, NODE_SHIM_STATE, PROXMOX_SHIM_DIR } from './paths';
import { LabTopology } from './topology';

const SHIM_ADMIN = path.join(PROXMOX_SHIM_DIR, 'cias-shim-admin');

/** Inside a node: what /etc/pve links to. */
export function nodePveView(nodeName: string): string {
  return `${NODE_SHIM_STATE}/view/${nodeName}`;
}

export function rootPasswordFile(paths: LabPaths): string {
  return path.join(paths.dataDir, 'secrets', 'pve-root-password');
}

/** The lab's root password for every node (what the deployment pipes to `pvecm add`). */
export function ensureRootPassword(paths: LabPaths): string {
  const file = rootPasswordFile(paths);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, `${randomBytes(12).toString('base64url')}\n`, { mode: 0o600 });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

/** Registers every node with the Proxmox shims' state; a no-op when the shims are not there. */
export function registerPveNodes(paths: LabPaths, topology: LabTopology): boolean {
  if (!fs.existsSync(SHIM_ADMIN)) return false;
  ensureRootPassword(paths);
  for (const node of topology.nodes) {
    run(SHIM_ADMIN, ['node', node.name, '--ip', node.ip, '--root-password-file', rootPasswordFile(paths)], {
      env: {
        ...process.env,
        CIAS_SHIM_STATE: path.join(paths.sharedDir, 'pve-state'),
        CIAS_SHIM_LOG: path.join(paths.sharedDir, 'shim-calls.log'),
        CIAS_SHIM_NODE: node.name,
        CIAS_SHIM_NODE_IP: node.ip,
      },
    });
  }
  return true;
}
