import { ITerraformDependable, RemoteExecProvisioner, TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { LAN } from '../model/addressing';
import { NodeModel, SshEndpoint } from '../model/cluster';
import { ProvisioningResourceType } from './host-push';
import { NullResource } from './provisioning-fragment';
import { TerraformData } from './terraform-data';

export interface NodeLeaveProps {
  readonly node: Pick<NodeModel, 'name' | 'ip' | 'fqdn' | 'ssh'>;
  /**
   * A retired node keeps its leave resource in the configuration with no instance (count 0): Terraform
   * runs a destroy-time provisioner only while its block is still in the configuration, so this is
   * what makes removing a node run scenario 5. @default false
   */
  readonly retired?: boolean;
  readonly resourceType: ProvisioningResourceType;
  /**
   * Private key file on the machine running terraform. Destroy-time provisioners may only read their
   * own resource, not variables, so they cannot use the key variable. @default none: ssh-agent
   */
  readonly sshKeyFile?: string;
  readonly bastion?: SshEndpoint;
  readonly dependsOn?: readonly ITerraformDependable[];
}

/** Written by every files push; read at destroy time, when only the node's own state is left. */
export const REMOVAL_POLICY_FILE = '/etc/cias/removal.conf';

/**
 * Retired addresses, recorded on the cluster's shared filesystem when a node leaves; joins refuse them
 * (cluster.yaml's `retired:` list is the other half: validation refuses them before any deploy).
 */
export const CLUSTER_RETIRED_FILE = '/mnt/mfs/cias/retired.conf';

/**
 * The destroy-time commands: refuse to remove the node holding the master role unless allowed; run
 * scenario 5 without its own power-off, record the node as retired on the cluster, then power off.
 */
export function nodeLeaveCommands(node: Pick<NodeModel, 'name' | 'ip' | 'fqdn'>, vip: string): string[] {
  return [
    `if ip -o addr show | grep -qw '${vip}' && ! grep -qx 'allow_master_removal=1' ${REMOVAL_POLICY_FILE} 2>/dev/null; then echo 'cias: refusing to remove ${node.name}: it holds the master role. Set provisioning.allow_master_removal: true, apply, then remove it.' >&2; exit 1; fi`,
    '/usr/local/sbin/cias-node-leave --no-poweroff',
    `echo "${node.ip} ${node.fqdn} $(date -u +%Y-%m-%d)" >>${CLUSTER_RETIRED_FILE}`,
    'shutdown -h +1 "cias: node left the cluster (scenario 5)"',
  ];
}

/**
 * Removing a node from cluster.yaml destroys this resource, whose destroy-time provisioner runs
 * scenario 5 on the node (migrate its VMs away, hand over the master role, leave the PVE cluster).
 * Only the node's name forces replacement, so changing its SSH details never triggers a leave:
 * terraform_data keeps them in `input` (updated in place); null_resource keeps them in `triggers`
 * with changes ignored (the address used at destroy time is the one recorded at creation).
 */
export class NodeLeave extends Construct {
  readonly resource: TerraformResource;

  constructor(scope: Construct, id: string, props: NodeLeaveProps) {
    super(scope, id);
    const details: Record<string, string> = {
      node_name: props.node.name,
      host: props.node.ssh.host,
      port: String(props.node.ssh.port),
      user: props.node.ssh.user,
      ssh_key_file: props.sshKeyFile ?? '',
      bastion_host: props.bastion?.host ?? '',
      bastion_port: String(props.bastion?.port ?? 22),
      bastion_user: props.bastion?.user ?? '',
    };
    const self = props.resourceType === 'terraform_data' ? 'self.input' : 'self.triggers';
    const ref = (key: string) => `\${${self}.${key}}`;
    const keyFile = `${self}.ssh_key_file`;
    const connection = {
      type: 'ssh' as const,
      host: ref('host'),
      port: `\${tonumber(${self}.port)}` as unknown as number,
      user: ref('user'),
      agent: `\${${keyFile} == ""}`,
      privateKey: `\${${keyFile} == "" ? null : file(${keyFile})}`,
      timeout: '3m',
      ...(props.bastion && {
        bastionHost: ref('bastion_host'),
        bastionPort: `\${tonumber(${self}.bastion_port)}` as unknown as number,
        bastionUser: ref('bastion_user'),
      }),
    };
    // cdktf's RemoteExecProvisioner type lacks `when`, but synthesis passes every key through.
    const leaveOnDestroy = { type: 'remote-exec', when: 'destroy', inline: nodeLeaveCommands(props.node, LAN.masterVip) } as RemoteExecProvisioner;
    const provisioners = [leaveOnDestroy];
    const dependsOn = props.dependsOn ? [...props.dependsOn] : undefined;
    const count = props.retired ? 0 : undefined;
    this.resource =
      props.resourceType === 'terraform_data'
        ? new TerraformData(this, 'scenario5', {
            triggersReplace: { node_name: props.node.name },
            input: details,
            connection,
            provisioners,
            dependsOn,
            count,
          })
        : new NullResource(this, 'scenario5', {
            triggers: details,
            connection,
            provisioners,
            dependsOn,
            count,
            lifecycle: { ignoreChanges: ['triggers'] },
          });
  }
}
