import { FastSynthStack } from './fast-stack';
import { Construct } from 'constructs';
import { NullProvider } from '@cdktf/provider-null/lib/provider';
import { ClusterModel } from '../model/cluster';
import { MasterNode } from '../constructs/master-node';
import { ProxmoxNode } from '../constructs/proxmox-node';
import { SlaveNode } from '../constructs/slave-node';
import { secretVariable } from './secrets';

export const HOSTS_STACK_NAME = 'hosts';

/**
 * Everything pushed to the Proxmox nodes over SSH. Needs no Proxmox API, so it can be planned and
 * applied on its own (the lab applies only this stack). Construct IDs are Proxmox node names.
 */
export class HostsStack extends FastSynthStack {
  readonly master: MasterNode;
  readonly nodes: ReadonlyMap<string, ProxmoxNode>;

  constructor(scope: Construct, model: ClusterModel) {
    super(scope, HOSTS_STACK_NAME);
    const resourceType = model.provisioning.resourceType;
    if (resourceType === 'null_resource') new NullProvider(this, 'null');
    const ssh = { privateKeyRef: secretVariable(this, 'sshPrivateKey'), bastion: model.provisioning.bastion };
    const vrrpPasswordRef = model.keepalived.auth ? secretVariable(this, 'vrrpAuthPassword') : undefined;
    const common = { model, resourceType, ssh, vrrpPasswordRef, sshKeyFile: model.provisioning.sshKeyFile };
    this.master = new MasterNode(this, model.bootstrap.name, { ...common, node: model.bootstrap });
    const nodes = new Map<string, ProxmoxNode>([[model.bootstrap.name, this.master]]);
    const others = model.nodes.filter((n) => !n.isBootstrap);
    if (others.length > 0) {
      const rootPasswordRef = secretVariable(this, 'proxmoxRootPassword');
      for (const node of others) {
        nodes.set(node.name, new SlaveNode(this, node.name, { ...common, node, master: this.master, rootPasswordRef }));
      }
    }
    this.nodes = nodes;
  }
}
