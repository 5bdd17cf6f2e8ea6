import { FastSynthStack } from './fast-stack';
import { Construct } from 'constructs';
import { NullProvider } from '@cdktf/provider-null/lib/provider';
import { ClusterModel } from '../model/cluster';
import { MasterNode } from '../constructs/master-node';
import { ProxmoxNode } from '../constructs/proxmox-node';
import { SlaveNode } from '../constructs/slave-node';
import { NodeLeave, NodeLeaveProps } from '../constructs/node-leave';
import { RetiredAddress } from '../model/cluster';
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
    // Removing a node means moving it under retired: its leave resource stays, with no instance, so
    // Terraform destroys the existing one and runs scenario 5 on the node.
    for (const retired of model.retired) {
      const node = retiredNode(retired, model);
      if (!node || nodes.has(node.name)) continue;
      new NodeLeave(new Construct(this, node.name), 'leave', {
        node,
        retired: true,
        resourceType,
        sshKeyFile: model.provisioning.sshKeyFile,
        bastion: model.provisioning.bastion,
      });
    }
  }
}

/**
 * The node a retired entry stands for, when it was a Proxmox node of this domain
 * (pve.<rack>.<position>.<o3>-<o4>.<domain> → pve-<rack>-<position>-<o3>-<o4>); NAS entries and
 * foreign names have no leave resource.
 */
export function retiredNode(retired: RetiredAddress, model: ClusterModel): NodeLeaveProps['node'] | undefined {
  const suffix = `.${model.domain}`;
  if (!retired.hostname.startsWith('pve.') || !retired.hostname.endsWith(suffix)) return undefined;
  const name = retired.hostname.slice(0, -suffix.length).replace(/\./g, '-');
  return { name, ip: retired.ip, fqdn: retired.hostname, ssh: { host: retired.ip, port: 22, user: 'root' } };
}
