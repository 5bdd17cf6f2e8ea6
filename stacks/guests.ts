import { App, TerraformStack } from 'cdktf';
import { ClusterModel, VmModel } from '../model/cluster';
import { GatewayStack, GatewayStackOptions } from './gateway-stack';
import { VmShardStack } from './vm-shard-stack';

export interface GuestStacksOptions extends GatewayStackOptions {
  /**
   * Stacks every guest stack needs applied first (the hosts stack: the PVE cluster must exist), for
   * `cdktf deploy` ordering. @default []
   */
  readonly after?: readonly TerraformStack[];
}

export interface GuestStacks {
  readonly gateway: GatewayStack;
  /** In index order. */
  readonly shards: VmShardStack[];
}

/**
 * The gateway stack and one `vms-e<E>` shard per VM-management IP index. A shard exists for every
 * configured index, even one without VMs: when the last VM of an index is removed from cluster.yaml,
 * its (then empty) shard is what destroys it. Shards do not depend on each other or on the gateway.
 * To retire an index, remove its VMs and deploy before removing its VM-management IP.
 */
export function addGuestStacks(app: App, model: ClusterModel, options: GuestStacksOptions = {}): GuestStacks {
  const gateway = new GatewayStack(app, model, options);
  const byIndex = new Map<number, VmModel[]>(model.wan.vmMgmtIps.map((entry) => [entry.index, []]));
  for (const vm of model.vms) {
    const list = byIndex.get(vm.externalIndex);
    if (list) list.push(vm);
    else byIndex.set(vm.externalIndex, [vm]);
  }
  const shards = [...byIndex.keys()]
    .sort((x, y) => x - y)
    .map((index) => new VmShardStack(app, model, index, byIndex.get(index) as VmModel[], { cpuType: options.cpuType }));
  for (const stack of [gateway, ...shards]) for (const dependency of options.after ?? []) stack.addDependency(dependency);
  return { gateway, shards };
}
