import { SSHProvisionerConnection } from 'cdktf';
import { SshEndpoint } from '../model/cluster';

/**
 * How every push reaches its host. The private key is a sensitive variable's reference (never its
 * value); when the variable is empty, terraform falls back to ssh-agent.
 */
export interface SshAccess {
  /** Terraform expression of the sensitive private-key variable, e.g. `${var.cias_ssh_private_key}`. */
  readonly privateKeyRef: string;
  /** Jump host. @default none */
  readonly bastion?: SshEndpoint;
}

export function sshConnection(endpoint: SshEndpoint, access: SshAccess): SSHProvisionerConnection {
  const key = access.privateKeyRef.replace(/^\$\{(.*)\}$/, '$1');
  return {
    type: 'ssh',
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.user,
    privateKey: `\${${key} == "" ? null : ${key}}`,
    agent: `\${${key} == ""}`,
    timeout: '3m',
    ...(access.bastion && {
      bastionHost: access.bastion.host,
      bastionPort: access.bastion.port,
      bastionUser: access.bastion.user,
      bastionPrivateKey: `\${${key} == "" ? null : ${key}}`,
    }),
  };
}
