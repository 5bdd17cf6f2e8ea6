import { FastSynthStack } from './fast-stack';
import { Construct } from 'constructs';
import { NullProvider } from '@cdktf/provider-null/lib/provider';
import { ClusterModel } from '../model/cluster';
import { NasStorage } from '../constructs/nas-storage';
import { ProxmoxProvider } from '../.gen/providers/proxmox/provider';
import { addProxmoxProvider } from '../constructs/proxmox-provider';
import { ZentyalGateway, masterVipEndpoint } from '../constructs/zentyal-gateway';
import { secretVariable } from './secrets';

export const GATEWAY_STACK_NAME = 'gateway';

export interface GatewayStackOptions {
  /** Zentyal administrator to create. @default DEFAULT_GATEWAY_ADMIN_USER ('cias-admin') */
  readonly adminUser?: string;
  /** CPU model of the gateway guest. @default DEFAULT_CPU_TYPE ('x86-64-v2') */
  readonly cpuType?: string;
}

/**
 * The gateway (VMID 100) with its rules push, and one Proxmox storage per NAS. Construct IDs are the
 * gateway's name and the NAS names; the gateway guest's logical ID is `vm-100`.
 */
export class GatewayStack extends FastSynthStack {
  readonly provider: ProxmoxProvider;
  readonly gateway: ZentyalGateway;
  /** By NAS name. */
  readonly nas: ReadonlyMap<string, NasStorage>;

  constructor(scope: Construct, model: ClusterModel, options: GatewayStackOptions = {}) {
    super(scope, GATEWAY_STACK_NAME);
    const resourceType = model.provisioning.resourceType;
    this.provider = addProxmoxProvider(this, model.proxmox);
    if (resourceType === 'null_resource') new NullProvider(this, 'null');
    const privateKeyRef = secretVariable(this, 'sshPrivateKey');
    this.gateway = new ZentyalGateway(this, model.gateway.name, {
      model,
      resourceType,
      privateKeyRef,
      adminPasswordRef: secretVariable(this, 'gatewayAdminPassword'),
      adminUser: options.adminUser,
      cpuType: options.cpuType,
    });
    const master = masterVipEndpoint(model);
    const ssh = { privateKeyRef, bastion: model.provisioning.bastion };
    this.nas = new Map(
      model.nas.map((nas) => [nas.name, new NasStorage(this, nas.name, { nas, master, resourceType, ssh })] as const),
    );
  }
}
