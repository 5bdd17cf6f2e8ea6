import { App, TerraformStack } from 'cdktf';
import { ClusterModel } from '../model/cluster';
import { configureBackend } from './backend';
import { GatewayStack } from './gateway-stack';
import { addGuestStacks } from './guests';
import { HostsStack } from './hosts-stack';
import { VmShardStack } from './vm-shard-stack';
import { withoutTokenStackTraces } from './token-traces';

export interface CiasStacks {
  readonly hosts: HostsStack;
  readonly gateway: GatewayStack;
  /** One per VM-management IP index, in index order. */
  readonly shards: readonly VmShardStack[];
}

export interface BuildOptions {
  /** Base directory for local state files. @default process.cwd() */
  readonly projectDir?: string;
}

/**
 * Every stack of one cluster, each with its own state in the configured backend. Guests come after
 * the hosts (the PVE cluster and its storages must exist); shards do not depend on each other.
 */
export function buildCias(app: App, model: ClusterModel, options: BuildOptions = {}): CiasStacks {
  const { hosts, gateway, shards } = withoutTokenStackTraces(() => {
    const hostsStack = new HostsStack(app, model);
    return { hosts: hostsStack, ...addGuestStacks(app, model, { after: [hostsStack] }) };
  });
  for (const child of app.node.children) {
    if (TerraformStack.isStack(child)) {
      configureBackend(child, child.node.id, model.state, options.projectDir ?? process.cwd());
    }
  }
  return { hosts, gateway, shards };
}
