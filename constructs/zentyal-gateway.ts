import { TerraformProvider } from 'cdktf';
import { Construct } from 'constructs';
import { GATEWAY_VMID, LAN } from '../model/addressing';
import { ClusterModel, SshEndpoint } from '../model/cluster';
import { GATEWAY_PATHS, GatewayBundleParams, GatewayVm, renderGatewayBundle } from '../render/gateway';
import { shellQuote } from '../render/install-bundle';
import { HOST_SECRET_DIR, HostPush, ProvisioningResourceType } from './host-push';
import { ProxmoxVmQemu } from './proxmox-provider';
import { DEFAULT_CPU_TYPE, GUEST_BRIDGE, PLACEMENT_IGNORED, diskLayout, proxmoxTags, vmLogicalId } from './vm-slot';

/** Where the gateway admin password lands on the gateway (mode 0600, never in the bundle). */
export const GATEWAY_ADMIN_PASSWORD_FILE = `${HOST_SECRET_DIR}/gateway-admin-password`;

/** The Zentyal administrator cias creates; cluster.yaml has no field for the name yet. */
export const DEFAULT_GATEWAY_ADMIN_USER = 'cias-admin';

/** Everything the gateway's rule files are rendered from, taken from the model (SPEC §2, §3, §6). */
export function gatewayBundleParams(model: ClusterModel): GatewayBundleParams {
  const gateway = model.gateway;
  const vms: GatewayVm[] = model.vms.map((vm) => ({
    vmid: vm.vmid,
    name: vm.name,
    mac: vm.mac,
    internalIp: vm.ip,
    externalIndex: vm.externalIndex,
    externalIp: vm.externalIp,
    portForwards: vm.portOverrides,
    defaultRuleProtocols: ['tcp', 'udp'],
    dnsNames: vm.dnsNames,
  }));
  return {
    wanInterface: gateway.wanInterface,
    lanInterface: gateway.lanInterface,
    wanPrefix: model.wan.prefixLength,
    wanGateway: model.wan.gateway,
    lanIp: gateway.lanIp,
    proxmoxManagementIp: model.wan.proxmoxMgmtIp,
    nasManagementIp: model.wan.nasMgmtIp,
    vmManagementIps: model.wan.vmMgmtIps,
    proxmoxVip: LAN.masterVip,
    proxmoxNodeIps: model.nodes.map((node) => node.ip),
    // cluster.yaml lists no NAS port forwards; the NAS web UI is reached through the reverse proxy.
    nas: model.nas.map((nas) => ({ hostname: nas.fqdn, ip: nas.ip, managementForwards: [], webPort: nas.webPort })),
    vms,
    reverseProxies: gateway.reverseProxies,
    redirects: gateway.redirects,
    dns: { zone: model.domain, names: gateway.dnsNames },
    sshAllowedSource: LAN.masterVip,
  };
}

/**
 * The jump host for the gateway: SPEC §6 lets only 10.254.0.254 (the master VIP) in over SSH, so the
 * push goes through whichever node is master, with the bootstrap node's SSH port and user.
 */
export function masterVipEndpoint(model: ClusterModel): SshEndpoint {
  return { host: LAN.masterVip, port: model.bootstrap.ssh.port, user: model.bootstrap.ssh.user };
}

export interface ZentyalGatewayProps {
  readonly model: ClusterModel;
  readonly resourceType: ProvisioningResourceType;
  /** Terraform expression of the SSH private-key variable, e.g. `${var.cias_ssh_private_key}`. */
  readonly privateKeyRef: string;
  /** Terraform expression of the sensitive gateway admin password variable. */
  readonly adminPasswordRef: string;
  /** Zentyal administrator to create. @default DEFAULT_GATEWAY_ADMIN_USER ('cias-admin') */
  readonly adminUser?: string;
  /** Jump host for the rules push. @default masterVipEndpoint(model) */
  readonly bastion?: SshEndpoint;
  /** Provider instance, when the stack has more than one. @default the stack's default `proxmox` */
  readonly provider?: TerraformProvider;
  /** CPU model. @default DEFAULT_CPU_TYPE ('x86-64-v2') */
  readonly cpuType?: string;
}

/**
 * The Zentyal gateway (SPEC §6): a KVM guest with VMID 100 on the master, and the push that installs
 * its network rules (DHCP reservations, port forwards, reverse proxy, DNS) as Zentyal stubs and hooks,
 * so Zentyal's own regeneration re-applies them instead of wiping them.
 *
 * The guest is `prevent_destroy`: every tenant's connectivity goes through it. Its template must
 * bring up 10.0.0.254/8 on its NIC and accept root's SSH key (the push connects there).
 */
export class ZentyalGateway extends Construct {
  readonly vm: ProxmoxVmQemu;
  readonly rules: HostPush;

  constructor(scope: Construct, id: string, props: ZentyalGatewayProps) {
    super(scope, id);
    const { model } = props;
    const gateway = model.gateway;
    if (gateway.vmid !== GATEWAY_VMID) throw new Error(`the gateway's VMID is ${GATEWAY_VMID}, not ${gateway.vmid}`);
    const { disks, bootDisk } = diskLayout([{ slot: 'scsi0', sizeGb: gateway.diskGb, storage: gateway.storage }], false);

    this.vm = new ProxmoxVmQemu(this, 'vm', {
      provider: props.provider,
      vmid: gateway.vmid,
      name: gateway.name,
      description: 'cias gateway: Zentyal (DNS, DHCP, NAT, port forwards, reverse proxy)',
      targetNode: gateway.node,
      clone: gateway.template,
      fullClone: gateway.fullClone,
      cpu: { cores: gateway.cores, sockets: 1, type: props.cpuType ?? DEFAULT_CPU_TYPE },
      memory: gateway.memoryMb,
      scsihw: 'virtio-scsi-single',
      disks,
      // One virtio NIC carries the WAN and the LAN addresses (SPEC §6); its MAC is derived from VMID 100.
      network: [{ id: 0, model: 'virtio', bridge: GUEST_BRIDGE, macaddr: gateway.mac }],
      startAtNodeBoot: true,
      tags: proxmoxTags(['gateway']),
      boot: `order=${bootDisk}`,
      // Failover moves VMID 100 to the new master (scenario 3), so placement is not enforced; see
      // PLACEMENT_IGNORED. Power state is: the gateway must run.
      lifecycle: { preventDestroy: true, ignoreChanges: [...PLACEMENT_IGNORED] },
    });
    this.vm.overrideLogicalId(vmLogicalId(gateway.vmid));

    const adminUser = props.adminUser ?? DEFAULT_GATEWAY_ADMIN_USER;
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(adminUser) || adminUser === 'root') {
      throw new Error(`gateway admin user: not a valid user name (and not root): ${adminUser}`);
    }
    const passwordExpression = props.adminPasswordRef.replace(/^\$\{(.*)\}$/, '$1');
    this.rules = new HostPush(this, 'rules', {
      resourceType: props.resourceType,
      host: gateway.ssh,
      ssh: { privateKeyRef: props.privateKeyRef, bastion: props.bastion ?? masterVipEndpoint(model) },
      bundle: {
        name: `${gateway.name}/rules`,
        files: renderGatewayBundle(gatewayBundleParams(model)),
        afterChange: [`${GATEWAY_PATHS.refresh} all`],
        // On every run: a run triggered only by a new password changes no file.
        always: [`${GATEWAY_PATHS.libDir}/create_user.sh ${shellQuote(adminUser)} --password-file ${GATEWAY_ADMIN_PASSWORD_FILE}`],
      },
      secrets: { [GATEWAY_ADMIN_PASSWORD_FILE]: props.adminPasswordRef },
      extraTriggers: {
        admin_password_sha256: `\${sha256(${passwordExpression})}`,
        // A gateway guest re-created for any other reason (deleted by hand, then applied) gets its rules
        // again. Should the provider's ID follow the guest to a new node after failover, the push re-runs
        // once, which is harmless: it is idempotent.
        // Written as the expression itself, not a cdktf token: the guest is in this stack, and a
        // token would send the whole 43 MB bundle of a full cluster through cdktf's resolver.
        gateway_vm_id: `\${${ProxmoxVmQemu.tfResourceType}.${this.vm.friendlyUniqueId}.id}`,
      },
      dependsOn: [this.vm],
    });
  }
}
