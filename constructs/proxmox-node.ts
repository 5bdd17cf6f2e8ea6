import { ITerraformDependable } from 'cdktf';
import { Construct } from 'constructs';
import { ClusterModel, NodeModel } from '../model/cluster';
import { InstallBundleParams } from '../render/install-bundle';
import { HostPush, HostPushProps, ProvisioningResourceType } from './host-push';
import {
  disksBundle,
  filesBundle,
  keepalivedBundle,
  membershipBundle,
  moosefsBundle,
  packagesBundle,
  scriptsBundle,
  VRRP_PASSWORD_FILE,
} from './node-bundles';
import { NodeLeave } from './node-leave';
import { SshAccess } from './ssh-connection';

export interface NodeOrdering {
  readonly keepalived: readonly ITerraformDependable[];
  readonly moosefs: readonly ITerraformDependable[];
}

export interface ProxmoxNodeProps {
  readonly model: ClusterModel;
  readonly node: NodeModel;
  readonly resourceType: ProvisioningResourceType;
  readonly ssh: SshAccess;
  /** Terraform expression of the VRRP password variable; required when keepalived.auth is on. @default none */
  readonly vrrpPasswordRef?: string;
  /** Key file for the destroy-time leave. @default none: ssh-agent */
  readonly sshKeyFile?: string;
}

/**
 * One Proxmox node of the cluster: a chain of pushes (packages → files → disks → membership →
 * keepalived → moosefs → cluster), each re-run only when its own content changes, plus the destroy-time
 * leave (scenario 5). MasterNode and SlaveNode differ in how the node enters the PVE cluster.
 */
export abstract class ProxmoxNode extends Construct {
  readonly nodeModel: NodeModel;
  readonly keepalived: HostPush;
  readonly moosefs: HostPush;
  abstract readonly cluster: HostPush;
  protected readonly props: ProxmoxNodeProps;

  /**
   * @param after pushes of other nodes that must come first: the bootstrap node's keepalived (so it is
   * the first to hold the VIPs, and the others join as backups) and its MooseFS master.
   */
  constructor(scope: Construct, id: string, props: ProxmoxNodeProps, after: NodeOrdering) {
    super(scope, id);
    this.props = props;
    this.nodeModel = props.node;
    const { model, node } = props;
    const packages = this.push('packages', packagesBundle(node));
    const scripts = this.push('scripts', scriptsBundle(), [packages.resource], { shared: true });
    const files = this.push('files', filesBundle(model, node), [scripts.resource]);
    const disks = this.push('disks', disksBundle(node), [files.resource]);
    const membership = this.push('membership', membershipBundle(model), [files.resource], { shared: true });
    const auth = model.keepalived.auth && props.vrrpPasswordRef;
    this.keepalived = this.push('keepalived', keepalivedBundle(model, node), [membership.resource, ...after.keepalived], {
      secrets: auth ? { [VRRP_PASSWORD_FILE]: props.vrrpPasswordRef! } : undefined,
      extraTriggers: auth ? { vrrp_password_sha256: `\${sha256(${props.vrrpPasswordRef!.slice(2, -1)})}` } : undefined,
    });
    this.moosefs = this.push('moosefs', moosefsBundle(model, node), [disks.resource, this.keepalived.resource, ...after.moosefs]);
    new NodeLeave(this, 'leave', {
      node,
      resourceType: props.resourceType,
      sshKeyFile: props.sshKeyFile,
      bastion: props.ssh.bastion,
      dependsOn: [files.resource],
    });
  }

  protected push(
    id: string,
    bundle: InstallBundleParams,
    dependsOn: readonly ITerraformDependable[] = [],
    extra: Pick<HostPushProps, 'secrets' | 'extraTriggers' | 'shared'> = {},
  ): HostPush {
    return new HostPush(this, id, {
      resourceType: this.props.resourceType,
      host: this.props.node.ssh,
      ssh: this.props.ssh,
      bundle,
      dependsOn,
      ...extra,
    });
  }
}
