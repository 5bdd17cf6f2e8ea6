import { Construct } from 'constructs';
import { HostPush } from './host-push';
import { bootstrapClusterBundle } from './node-bundles';
import { ProxmoxNode, ProxmoxNodeProps } from './proxmox-node';

/**
 * The bootstrap node: the first master. Its keepalived comes up first (the VIPs appear), then its
 * MooseFS master, then it creates the `DLLL-CIAS` PVE cluster, its storages and backup jobs.
 */
export class MasterNode extends ProxmoxNode {
  readonly cluster: HostPush;

  constructor(scope: Construct, id: string, props: ProxmoxNodeProps) {
    super(scope, id, props, { keepalived: [], moosefs: [] });
    this.cluster = this.push('cluster', bootstrapClusterBundle(props.model, props.node), [this.moosefs.resource]);
  }
}
