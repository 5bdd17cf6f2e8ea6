/**
 * What each push puts on a Proxmox node: maps the cluster model onto the renderers. Pure functions, so
 * the tests can check bundle contents without synthesizing.
 */
import { LAN } from '../model/addressing';
import { ipv4ToInt } from '../model/ipv4';
import { ClusterModel, NodeModel, WeeklyTime } from '../model/cluster';
import { InstallBundleParams, shellQuote } from '../render/install-bundle';
import { renderHostsBlock } from '../render/hosts';
import { KeepalivedParams, renderKeepalivedConf, renderKeepalivedForceMasterConf } from '../render/keepalived';
import {
  MFS_DATA_PATH,
  MFS_MOUNT_POINT,
  mfsSetTrashTimeArgv,
  renderMfsChunkserverCfg,
  renderMfsExportsCfg,
  renderMfsHddCfg,
  renderMfsMasterCfg,
  renderMfsMetaloggerCfg,
  renderMfsMountFstabLine,
} from '../render/moosefs';
import { NodeRuntimeParams, renderCiasConf, renderDisksConf, renderNodesConf } from '../render/node-config';
import { renderCronD } from '../render/cron';
import { NODE_SCRIPT_PACKAGES, nodeScripts } from '../render/scripts';
import { HOST_SECRET_DIR } from './host-push';
import { CLUSTER_RETIRED_FILE, REMOVAL_POLICY_FILE } from './node-leave';

/** Debian packages every node needs beyond Proxmox VE itself. */
export const NODE_PACKAGES: readonly string[] = [
  ...new Set([
    'keepalived',
    'moosefs-master',
    'moosefs-chunkserver',
    'moosefs-metalogger',
    'moosefs-client',
    'moosefs-cgiserv',
    'moosefs-cli',
    'rsync',
    ...NODE_SCRIPT_PACKAGES,
  ]),
];

export const VRRP_PASSWORD_FILE = `${HOST_SECRET_DIR}/vrrp-auth-pass`;
export const PVE_ROOT_PASSWORD_FILE = `${HOST_SECRET_DIR}/pve-root-password`;
/** Stands in for the VRRP password in the pushed template; the node substitutes the secret file. */
const VRRP_PASSWORD_PLACEHOLDER = 'CIASPASS';
const KEEPALIVED_DIR = '/etc/keepalived';

const quoteWord = (word: string) => (/^[A-Za-z0-9._\/:@%+=,-]+$/.test(word) ? word : shellQuote(word));

/** Node lists in files follow address order, so reordering cluster.yaml changes nothing. */
function nodesByIp(model: ClusterModel): readonly NodeModel[] {
  let sorted = nodesByIpCache.get(model);
  if (sorted === undefined) {
    const keyed = model.nodes.map((node) => [ipv4ToInt(node.ip), node] as const).sort(([a], [b]) => a - b);
    sorted = keyed.map(([, node]) => node);
    nodesByIpCache.set(model, sorted);
  }
  return sorted;
}

const nodesByIpCache = new WeakMap<ClusterModel, readonly NodeModel[]>();

export function runtimeParams(model: ClusterModel, node: NodeModel): NodeRuntimeParams {
  return {
    clusterName: model.name,
    domain: model.domain,
    nodeName: node.name,
    nodeFqdn: node.fqdn,
    nodeIp: node.ip,
    canBeMaster: node.canBeMaster,
    lanInterface: node.lanInterface,
    wanInterface: node.wanInterface,
    vip: LAN.masterVip,
    masterExternalIp: model.wan.masterIp,
    wanPrefix: model.wan.prefixLength,
    bootstrapIp: model.bootstrap.ip,
    gatewayVmid: model.gateway.vmid,
    uplinkProbe: model.watchdog.probeTarget,
    shutdownDelayMinutes: model.watchdog.shutdownDelayMinutes,
    deadAfterMinutes: model.liveness.deadAfterMinutes,
    notifyEmail: model.notifyEmail,
  };
}

export function packagesBundle(node: NodeModel): InstallBundleParams {
  const list = NODE_PACKAGES.join(' ');
  return {
    name: `${node.name}/packages`,
    files: [{ path: '/etc/cias/packages.list', content: `${NODE_PACKAGES.join('\n')}\n` }],
    always: [
      `missing=(); for p in ${list}; do dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done`,
      'if ((${#missing[@]})); then export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq --no-install-recommends "${missing[@]}"; fi',
      // Every node has mfsmaster installed, but only the master runs it (SPEC §4).
      'systemctl disable moosefs-master moosefs-cgiserv >/dev/null 2>&1 || true',
    ],
  };
}

/** The scripts: byte-identical on every node (everything node-specific is in cias.conf). */
const SCRIPTS_BUNDLE: InstallBundleParams = {
  name: 'scripts',
  files: nodeScripts.map((script) => ({ path: script.installPath, content: script.content, mode: script.mode })),
};

/** The node scripts; one object, so HostPush renders and hashes it once however many nodes there are. */
export function scriptsBundle(): InstallBundleParams {
  return SCRIPTS_BUNDLE;
}

/** cias.conf, cron, hosts entry, removal policy. */
export function filesBundle(model: ClusterModel, node: NodeModel): InstallBundleParams {
  return {
    name: `${node.name}/files`,
    files: [
      { path: '/etc/cias/cias.conf', content: renderCiasConf(runtimeParams(model, node)) },
      {
        path: '/etc/cron.d/cias',
        content: renderCronD({
          gatewayBackupCopy: model.schedules.gatewayBackupCopy,
          uplinkWatchdog: model.schedules.uplinkWatchdog,
          vmidExport: model.schedules.vmidExport,
          liveness: model.schedules.liveness,
        }),
      },
      {
        path: REMOVAL_POLICY_FILE,
        content: `allow_master_removal=${model.provisioning.allowMasterRemoval ? 1 : 0}\n`,
      },
      {
        path: '/etc/cias/hosts.block',
        content: renderHostsBlock({ nodeIp: node.ip, fqdn: node.fqdn, nodeName: node.name }),
      },
    ],
    always: [
      'install -d -m 0755 /var/lib/cias /data/cias',
      // /etc/hosts may be a bind mount (containers, the lab): rewrite it in place, never rename over it.
      "hosts_new=$(mktemp); awk '/^# BEGIN cias$/{skip=1} !skip{print} /^# END cias$/{skip=0}' /etc/hosts >\"$hosts_new\"; cat /etc/cias/hosts.block >>\"$hosts_new\"; cmp -s \"$hosts_new\" /etc/hosts || cat \"$hosts_new\" >/etc/hosts; rm -f \"$hosts_new\"",
    ],
  };
}

/**
 * The list of cluster members: the one file every node gets again when a node joins or leaves.
 * Identical on every node, so the stack stores it once (it grows with the cluster).
 */
export function membershipBundle(model: ClusterModel): InstallBundleParams {
  let bundle = membershipBundles.get(model);
  if (bundle === undefined) {
    bundle = {
      name: 'membership',
      files: [
        {
          path: '/etc/cias/nodes.conf',
          content: renderNodesConf(nodesByIp(model).map((n) => ({ ip: n.ip, name: n.name, fqdn: n.fqdn, canBeMaster: n.canBeMaster }))),
        },
      ],
    };
    membershipBundles.set(model, bundle);
  }
  return bundle;
}

/** One membership bundle per model: every node gets the same (rendering it per node is quadratic). */
const membershipBundles = new WeakMap<ClusterModel, InstallBundleParams>();

export function disksBundle(node: NodeModel): InstallBundleParams {
  return {
    name: `${node.name}/disks`,
    files: [
      {
        path: '/etc/cias/disks.conf',
        content: renderDisksConf(node.disks.map((d) => ({ device: d.device, filesystem: d.filesystem, force: d.force }))),
      },
    ],
    afterChange: ['/usr/local/sbin/cias-prepare-disks'],
  };
}

export function keepalivedParams(model: ClusterModel, node: NodeModel): KeepalivedParams {
  return {
    nodeName: node.name,
    nodeIp: node.ip,
    priority: node.priority,
    canBeMaster: node.canBeMaster,
    lanInterface: node.lanInterface,
    wanInterface: node.wanInterface,
    masterExternalIp: model.wan.masterIp,
    wanPrefix: model.wan.prefixLength,
    vip: LAN.masterVip,
    vipPrefix: LAN.prefix,
    virtualRouterId: model.keepalived.virtualRouterId,
    advertIntervalSeconds: model.keepalived.advertInt,
    authPassword: model.keepalived.auth ? VRRP_PASSWORD_PLACEHOLDER : undefined,
    routeFromVip: [LAN.gatewayIp],
    unicastPeers: model.keepalived.unicast
      ? nodesByIp(model).map((n) => ({ name: n.name, ip: n.ip, canBeMaster: n.canBeMaster }))
      : undefined,
  };
}

/**
 * keepalived.conf (and the force-master variant on master-capable nodes). With VRRP authentication the
 * pushed files are templates; the node fills in the password from its secret file, so the password is
 * never part of the configuration terraform sees.
 */
export function keepalivedBundle(model: ClusterModel, node: NodeModel): InstallBundleParams {
  const params = keepalivedParams(model, node);
  const templated = model.keepalived.auth;
  const suffix = templated ? '.in' : '';
  const files = [{ path: `${KEEPALIVED_DIR}/keepalived.conf${suffix}`, content: renderKeepalivedConf(params) }];
  if (node.canBeMaster) {
    files.push({ path: `${KEEPALIVED_DIR}/keepalived-force-master.conf${suffix}`, content: renderKeepalivedForceMasterConf(params) });
  }
  const fill = templated
    ? files.map((f) => {
        const target = f.path.slice(0, -3);
        return `pw=$(head -c 8 ${VRRP_PASSWORD_FILE}); sed "s/auth_pass ${VRRP_PASSWORD_PLACEHOLDER}\$/auth_pass $pw/" ${f.path} >${target}.cias-new; chmod 0600 ${target}.cias-new; cmp -s ${target}.cias-new ${target} && rm -f ${target}.cias-new || { mv -f ${target}.cias-new ${target}; changed=1; }`;
      })
    : [];
  return {
    name: `${node.name}/keepalived`,
    files,
    // Secrets arrive after the bundle's own files in the same push, so the fill runs every time.
    always: [
      ...fill,
      'systemctl enable keepalived >/dev/null 2>&1 || true',
      // A reload keeps the current master in place; a restart of the master would hand the VIPs over.
      'if ((changed)); then systemctl reload keepalived 2>/dev/null || systemctl restart keepalived; fi',
      'systemctl is-active --quiet keepalived || systemctl start keepalived',
    ],
  };
}

/**
 * MooseFS on every node: metalogger, chunkserver (when the node has disks), the mount. mfsmaster's
 * config is everywhere, but the master is only started on the node that holds the VIP.
 */
export function moosefsBundle(model: ClusterModel, node: NodeModel): InstallBundleParams {
  const devices = node.disks.map((d) => d.device);
  const trash = mfsSetTrashTimeArgv({ trashTimeSeconds: model.moosefs.trashTimeSeconds }).map(quoteWord).join(' ');
  const fstabLine = renderMfsMountFstabLine().trim();
  const startChunkserver = devices.length > 0;
  return {
    name: `${node.name}/moosefs`,
    files: [
      { path: '/etc/mfs/mfsmaster.cfg', content: renderMfsMasterCfg() },
      { path: '/etc/mfs/mfsexports.cfg', content: renderMfsExportsCfg({ trashTimeSeconds: model.moosefs.trashTimeSeconds }) },
      { path: '/etc/mfs/mfsmetalogger.cfg', content: renderMfsMetaloggerCfg({ nodeIp: node.ip }) },
      { path: '/etc/mfs/mfschunkserver.cfg', content: renderMfsChunkserverCfg({ nodeIp: node.ip }) },
      { path: '/etc/mfs/mfshdd.cfg', content: renderMfsHddCfg({ disks: devices }) },
      { path: '/etc/cias/mfsmount.fstab', content: `${fstabLine}\n` },
    ],
    always: [
      `install -d -o mfs -g mfs ${MFS_DATA_PATH}`,
      // The first master starts from an empty filesystem; a later master restores in keepalived_to_master.sh.
      `if ip -o addr show | grep -qw '${LAN.masterVip}'; then`,
      `  if ! systemctl is-active --quiet moosefs-master; then`,
      `    [[ -e ${MFS_DATA_PATH}/metadata.mfs || -e ${MFS_DATA_PATH}/metadata.mfs.back ]] || install -o mfs -g mfs -m 0640 ${MFS_DATA_PATH}/metadata.mfs.empty ${MFS_DATA_PATH}/metadata.mfs`,
      '    systemctl start moosefs-master',
      '  fi',
      '  systemctl start moosefs-cgiserv || true',
      'fi',
      'if ((changed)); then systemctl restart moosefs-metalogger; else systemctl is-active --quiet moosefs-metalogger || systemctl start moosefs-metalogger; fi',
      'systemctl enable moosefs-metalogger >/dev/null 2>&1 || true',
      startChunkserver
        ? 'if ((changed)); then systemctl restart moosefs-chunkserver; else systemctl is-active --quiet moosefs-chunkserver || systemctl start moosefs-chunkserver; fi; systemctl enable moosefs-chunkserver >/dev/null 2>&1 || true'
        : 'systemctl disable --now moosefs-chunkserver >/dev/null 2>&1 || true',
      // An existing mount point answers EIO while its master restarts: only create it when unmounted.
      `mountpoint -q ${MFS_MOUNT_POINT} || install -d ${MFS_MOUNT_POINT}`,
      `grep -qF '${fstabLine}' /etc/fstab || { sed -i '\\# ${MFS_MOUNT_POINT} moosefs #d' /etc/fstab; echo '${fstabLine}' >>/etc/fstab; }`,
      `mountpoint -q ${MFS_MOUNT_POINT} || mount ${MFS_MOUNT_POINT}`,
      // mfsdelayedinit mounts before the master answers (e.g. while a failover restores it): wait.
      `for _ in $(seq 60); do stat -f ${MFS_MOUNT_POINT}/. >/dev/null 2>&1 && mkdir -p ${MFS_MOUNT_POINT}/cias ${MFS_MOUNT_POINT}/dump 2>/dev/null && break; sleep 2; done`,
      `[[ -d ${MFS_MOUNT_POINT}/cias && -d ${MFS_MOUNT_POINT}/dump ]] || { echo 'cias: ${MFS_MOUNT_POINT} does not answer (is the MooseFS master up?)' >&2; exit 1; }`,
      `if ip -o addr show | grep -qw '${LAN.masterVip}'; then ${trash} >/dev/null || true; fi`,
    ],
  };
}

/** Proxmox calendar event (`mon 02:00`) of a weekly schedule. */
export function calendarEvent(schedule: WeeklyTime): string {
  return `${schedule.day} ${schedule.time}`;
}

export function bootstrapClusterBundle(model: ClusterModel, node: NodeModel): InstallBundleParams {
  const gateway = calendarEvent(model.schedules.gatewayBackup);
  const vms = calendarEvent(model.schedules.vmBackup);
  return {
    name: `${node.name}/cluster`,
    files: [],
    always: [`/usr/local/sbin/cias-bootstrap-cluster --gateway-backup-schedule '${gateway}' --vm-backup-schedule '${vms}'`],
  };
}

export function joinClusterBundle(node: NodeModel): InstallBundleParams {
  return {
    name: `${node.name}/cluster`,
    files: [],
    always: [
      // A retired address or hostname must never come back: Proxmox breaks when a hostname is reused.
      `if [[ -f ${CLUSTER_RETIRED_FILE} ]] && awk -v ip=${node.ip} -v name=${node.fqdn} '$1 == ip || $2 == name { found = 1 } END { exit !found }' ${CLUSTER_RETIRED_FILE}; then echo 'cias: ${node.ip} / ${node.fqdn} is retired (${CLUSTER_RETIRED_FILE}); give this node the next free address' >&2; exit 1; fi`,
      `CIAS_ROOT_PASSWORD_FILE=${PVE_ROOT_PASSWORD_FILE} /usr/local/sbin/cias-join-cluster`,
    ],
  };
}
