/**
 * The files that make a lab node a machine of its own before anything is deployed to it: hostname,
 * hosts, resolver, sshd (key-only root login), syslog, an empty fstab, the shim environment (pure).
 * They are written into the node's overlay upper layer, so the host's own files stay untouched.
 */
import { NODE_SHIM_LOG, NODE_SHIM_STATE } from './paths';
import { LabNodePlan } from './topology';

export interface NodeFile {
  /** Absolute path inside the node. */
  readonly path: string;
  readonly content: string;
  /** @default 0o644 */
  readonly mode?: number;
}

export interface NodeFilesInput {
  readonly node: LabNodePlan;
  /** Every node of the lab: their names stand in /etc/hosts where a real site has DNS. */
  readonly peers: readonly LabNodePlan[];
  /** Public keys allowed to log in as root: the operator's, then every node's (as in a PVE cluster). */
  readonly authorizedKeys: readonly string[];
  /** `known_hosts` lines for every node, so node-to-node SSH verifies host keys. */
  readonly knownHosts: readonly string[];
}

/** Variables every process of a node sees: daemons, SSH sessions (SetEnv), cron jobs (pam_env). */
export function shimEnvironment(node: { readonly name: string; readonly ip: string }): Record<string, string> {
  return {
    CIAS_SHIM_LOG: NODE_SHIM_LOG,
    CIAS_SHIM_STATE: NODE_SHIM_STATE,
    CIAS_SHIM_NODE: node.name,
    CIAS_SHIM_NODE_IP: node.ip,
  };
}

export function sshdConfig(node: LabNodePlan): string {
  const setEnv = Object.entries(shimEnvironment(node))
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  return [
    `# cias lab node ${node.name}: root logs in with a key only.`,
    'Port 22',
    'ListenAddress 0.0.0.0',
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'PidFile /run/sshd.pid',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // No PAM: no logind, no systemd session in a lab node. Root's PATH then comes from sshd itself
    // (/usr/local/sbin first), and the shim variables from SetEnv.
    'UsePAM no',
    'UseDNS no',
    'X11Forwarding no',
    'PrintMotd no',
    'AcceptEnv LANG LC_*',
    `SetEnv ${setEnv}`,
    // terraform opens several sessions per node at once.
    'MaxStartups 64:30:128',
    'MaxSessions 64',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

/** rsyslog without kernel logging (the kernel log belongs to the host). */
export const RSYSLOG_CONF = [
  '# cias lab node: local syslog on /dev/log, files under /var/log.',
  'module(load="imuxsock")',
  '$FileOwner root',
  '$FileGroup adm',
  '$FileCreateMode 0640',
  '$DirCreateMode 0755',
  '$Umask 0022',
  '$WorkDirectory /var/spool/rsyslog',
  '$IncludeConfig /etc/rsyslog.d/*.conf',
  '*.*;auth,authpriv.none\t-/var/log/syslog',
  'auth,authpriv.*\t\t/var/log/auth.log',
  'cron.*\t\t\t-/var/log/cron.log',
  '',
].join('\n');

export function nodeFiles(input: NodeFilesInput): NodeFile[] {
  const { node } = input;
  const environment = Object.entries(shimEnvironment(node))
    .map(([key, value]) => `${key}=${value}\n`)
    .join('');
  return [
    { path: '/etc/hostname', content: `${node.name}\n` },
    {
      path: '/etc/hosts',
      // The node's own name maps to its internal address, never 127.0.1.1: a chunkserver whose
      // master name resolves to loopback refuses to start. The other nodes stand in for DNS.
      content: [
        '127.0.0.1\tlocalhost',
        `${node.ip}\t${node.fqdn} ${node.name}`,
        '# cias lab: the other nodes, as the site DNS would resolve them',
        ...input.peers.filter((peer) => peer.name !== node.name).map((peer) => `${peer.ip}\t${peer.fqdn} ${peer.name}`),
        '',
      ].join('\n'),
    },
    {
      path: '/etc/resolv.conf',
      content: '# cias lab: no DNS inside the lab; names come from /etc/hosts.\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n',
    },
    { path: '/etc/fstab', content: '# cias lab node: / is an overlay set up by node-init.sh.\n' },
    { path: '/etc/environment', content: environment },
    { path: '/etc/cias-lab/node', content: `CIAS_LAB_NODE=${node.name}\nCIAS_LAB_NODE_IP=${node.ip}\nCIAS_LAB_NODE_FQDN=${node.fqdn}\n` },
    { path: '/etc/ssh/sshd_config', content: sshdConfig(node) },
    { path: '/etc/rsyslog.conf', content: RSYSLOG_CONF },
    { path: '/root/.ssh/authorized_keys', content: input.authorizedKeys.map((key) => `${key.trim()}\n`).join(''), mode: 0o600 },
    { path: '/root/.ssh/known_hosts', content: input.knownHosts.map((line) => `${line}\n`).join('') },
  ];
}

/** `known_hosts` lines: every node by IP, name and FQDN; the VIP accepts any master-capable node's key. */
export function knownHostsLines(
  nodes: readonly { readonly plan: LabNodePlan; readonly hostKey: string }[],
  vip: string,
): string[] {
  const lines = nodes.map(({ plan, hostKey }) => `${plan.ip},${plan.name},${plan.fqdn} ${hostKey.trim()}`);
  for (const { plan, hostKey } of nodes) {
    if (plan.canBeMaster) lines.push(`${vip} ${hostKey.trim()}`);
  }
  return lines;
}
