import { Construct } from 'constructs';
import { HostPush } from './host-push';
import { joinClusterBundle, PVE_ROOT_PASSWORD_FILE } from './node-bundles';
import { MasterNode } from './master-node';
import { ProxmoxNode, ProxmoxNodeProps } from './proxmox-node';

export interface SlaveNodeProps extends ProxmoxNodeProps {
  /** The bootstrap node: chunkservers wait for its MooseFS master, the join for its cluster. */
  readonly master: MasterNode;
  /** Terraform expression of the master's root password variable (pvecm add asks for it). */
  readonly rootPasswordRef: string;
}

/** Every other node: joins MooseFS after the master is up and the PVE cluster through the master. */
export class SlaveNode extends ProxmoxNode {
  readonly cluster: HostPush;

  constructor(scope: Construct, id: string, props: SlaveNodeProps) {
    super(scope, id, props, { keepalived: [props.master.keepalived.resource], moosefs: [props.master.moosefs.resource] });
    this.cluster = this.push('cluster', joinClusterBundle(props.node), [this.moosefs.resource, props.master.cluster.resource], {
      secrets: { [PVE_ROOT_PASSWORD_FILE]: props.rootPasswordRef },
    });
  }
}
