import { FastSynthStack } from './fast-stack';
import { Construct } from 'constructs';
import { ProxmoxProvider } from '../.gen/providers/proxmox/provider';
import { MAX_EXTERNAL_INDEX, VMS_PER_EXTERNAL_INDEX } from '../model/addressing';
import { ClusterModel, VmModel } from '../model/cluster';
import { addProxmoxProvider } from '../constructs/proxmox-provider';
import { VmFleet } from '../constructs/vm-fleet';

/** `vms-e<E>`: the stack of the tenant VMs on VM-management IP index E. */
export function vmShardStackName(externalIndex: number): string {
  return `vms-e${externalIndex}`;
}

export interface VmShardStackOptions {
  /** CPU model of every VM in the shard. @default DEFAULT_CPU_TYPE ('x86-64-v2') */
  readonly cpuType?: string;
}

/**
 * The tenant VMs of one VM-management IP index E (at most 495: a ∈ 1..5, b ∈ 1..99), so a plan stays
 * small and shards plan and apply in parallel. A VM's shard and logical ID (`vm-<vmid>`) both follow
 * from its VMID, so a VM never moves between shards or addresses.
 */
export class VmShardStack extends FastSynthStack {
  readonly externalIndex: number;
  readonly provider: ProxmoxProvider;
  /** The shard's VMs, one `proxmox_vm_qemu.vm-<vmid>` each. */
  readonly fleet: VmFleet;

  constructor(
    scope: Construct,
    model: ClusterModel,
    externalIndex: number,
    vms: readonly VmModel[],
    options: VmShardStackOptions = {},
  ) {
    if (!Number.isInteger(externalIndex) || externalIndex < 0 || externalIndex > MAX_EXTERNAL_INDEX) {
      throw new RangeError(`VM-management IP index ${externalIndex} is outside 0..${MAX_EXTERNAL_INDEX}`);
    }
    const strays = vms.filter((vm) => vm.externalIndex !== externalIndex).map((vm) => vm.vmid);
    if (strays.length > 0) throw new Error(`${vmShardStackName(externalIndex)}: VMIDs ${strays.join(', ')} belong to other shards`);
    if (vms.length > VMS_PER_EXTERNAL_INDEX) {
      throw new Error(`${vmShardStackName(externalIndex)}: ${vms.length} VMs, at most ${VMS_PER_EXTERNAL_INDEX} fit one index`);
    }
    super(scope, vmShardStackName(externalIndex));
    this.externalIndex = externalIndex;
    this.provider = addProxmoxProvider(this, model.proxmox);
    this.fleet = new VmFleet(this, 'vms', { vms, cpuType: options.cpuType });
  }
}
