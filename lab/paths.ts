/**
 * Where the lab keeps things, in the root namespace and inside the nodes. One lab per machine: the
 * state file is the single record of what exists, so `labDown` can remove exactly that.
 */
import * as path from 'path';

/** Every network namespace the lab creates starts with this; teardown also sweeps by it. */
export const NAMESPACE_PREFIX = 'cias-lab-';

/** Root-namespace end of the leg into the switch's LAN bridge. */
export const HOST_LEG_INTERFACE = 'cias-lab0';

/** The repository's lab/ directory (node-init.sh and the systemctl shim live here). */
export const LAB_SOURCE_DIR = __dirname;
/** Proxmox command shims (pvecm, pvesm, pvesh, qm, vzdump, ha-manager), written beside the lab. */
export const PROXMOX_SHIM_DIR = path.join(LAB_SOURCE_DIR, 'shims');

export interface LabPaths {
  /** `state.json`: what the running lab created (namespaces, PIDs). */
  readonly stateFile: string;
  /** Per-node directories, the shared shim layer, the operator's SSH key. */
  readonly dataDir: string;
  /** Read-only overlay layer above the host root in every node: the command shims. */
  readonly layerDir: string;
  /** Bind-mounted into every node at {@link NODE_SHARED_DIR}: shim call log and fake PVE state. */
  readonly sharedDir: string;
  /** The key terraform and the tests use to log in to the nodes as root. */
  readonly operatorKey: string;
  /** Host keys of every node, by internal IP and name. */
  readonly knownHosts: string;
}

/**
 * @param stateDir  @default `$CIAS_LAB_STATE_DIR` or `/run/cias-lab`
 * @param dataDir   @default `$CIAS_LAB_DATA_DIR` or `/var/lib/cias-lab`
 */
export function labPaths(
  stateDir = process.env.CIAS_LAB_STATE_DIR ?? '/run/cias-lab',
  dataDir = process.env.CIAS_LAB_DATA_DIR ?? '/var/lib/cias-lab',
): LabPaths {
  return {
    stateFile: path.join(stateDir, 'state.json'),
    dataDir,
    layerDir: path.join(dataDir, 'layer'),
    sharedDir: path.join(dataDir, 'shared'),
    operatorKey: path.join(dataDir, 'ssh', 'id_ed25519'),
    knownHosts: path.join(dataDir, 'ssh', 'known_hosts'),
  };
}

/** Files of one node on the host: overlay upper/work dirs and the init's console log. */
export interface NodeDirs {
  readonly base: string;
  readonly upper: string;
  readonly work: string;
  readonly root: string;
  /** Mount point (in the node's mount namespace only) of the tmpfs copy of the shim layer. */
  readonly layerMount: string;
  readonly console: string;
}

export function nodeDirs(paths: LabPaths, nodeName: string): NodeDirs {
  const base = path.join(paths.dataDir, 'nodes', nodeName);
  return {
    base,
    upper: path.join(base, 'upper'),
    work: path.join(base, 'work'),
    root: path.join(base, 'root'),
    layerMount: path.join(base, 'layer'),
    console: path.join(base, 'console.log'),
  };
}

/** Inside every node: the lab's shared directory (other nodes' files stay hidden). */
export const NODE_SHARED_DIR = '/var/lib/cias-lab';
/** Inside every node: every call a shim (systemctl, pvecm, qm, …) received, one line each. */
export const NODE_SHIM_LOG = `${NODE_SHARED_DIR}/shim-calls.log`;
/** Inside every node: the fake Proxmox cluster state the Proxmox shims share. */
export const NODE_SHIM_STATE = `${NODE_SHARED_DIR}/pve-state`;
/** Inside every node: written by node-init.sh once the boot units run. */
export const NODE_BOOTED_MARKER = '/run/cias-lab/booted';
