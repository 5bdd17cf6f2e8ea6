import { TerraformStack, TerraformVariable } from 'cdktf';

/**
 * Sensitive inputs. Values come from the environment (TF_VAR_<name>) at plan/apply time and never
 * appear in cluster.yaml or in cdktf.out; the synthesized JSON holds only `var.<name>` references.
 */
export const SECRET_VARIABLES = {
  sshPrivateKey: 'cias_ssh_private_key',
  vrrpAuthPassword: 'cias_vrrp_auth_pass',
  proxmoxRootPassword: 'cias_pve_root_password',
  gatewayAdminPassword: 'cias_gateway_admin_password',
} as const;

export type SecretName = keyof typeof SECRET_VARIABLES;

const DESCRIPTIONS: Record<SecretName, string> = {
  sshPrivateKey: 'SSH private key (PEM) for root on the nodes; empty means use ssh-agent.',
  vrrpAuthPassword: 'VRRP PASS authentication password (1..8 characters), when keepalived.auth is on.',
  proxmoxRootPassword: 'Root password of the master, used once by joining nodes (pvecm add).',
  gatewayAdminPassword: 'Password of the Zentyal admin account created on the gateway.',
};

/** Declares the variable once per stack and returns its Terraform expression. */
export function secretVariable(stack: TerraformStack, name: SecretName): string {
  const id = SECRET_VARIABLES[name];
  const existing = stack.node.tryFindChild(id) as TerraformVariable | undefined;
  const variable =
    existing ??
    new TerraformVariable(stack, id, {
      type: 'string',
      sensitive: true,
      nullable: false,
      default: name === 'sshPrivateKey' ? '' : undefined,
      description: DESCRIPTIONS[name],
    });
  return `\${var.${variable.friendlyUniqueId}}`;
}
