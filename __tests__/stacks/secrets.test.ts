import { execFileSync } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { edit, exampleText } from '../helpers/cluster-text';

const root = join(__dirname, '../..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('secrets never reach cdktf.out', () => {
  const secrets = {
    PM_API_TOKEN_ID: 'root@pam!cias-token-id-7f3a',
    PM_API_TOKEN_SECRET: '5b1f9c2e-secret-token-uuid-8d4e',
    TF_VAR_cias_ssh_private_key: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-cias-test-key\n-----END OPENSSH PRIVATE KEY-----',
    TF_VAR_cias_gateway_admin_password: 'Gateway-Admin-Pw-91',
    TF_VAR_cias_pve_root_password: 'Root-Pw-On-Master-42',
    TF_VAR_cias_vrrp_auth_pass: 'Vr8pAss1',
  };
  let dir: string;
  let out: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cias-secrets-'));
    out = join(dir, 'out');
    const cluster = join(dir, 'cluster.yaml');
    writeFileSync(cluster, edit(exampleText(), 'provisioning:', 'keepalived:\n  auth: true\n  unicast: true\n\nprovisioning:'));
    execFileSync(process.execPath, [join(root, 'node_modules/cdktf-cli/bundle/bin/cdktf'), 'synth', '--output', out], {
      cwd: root,
      env: { ...process.env, ...secrets, CIAS_CLUSTER: cluster, CHECKPOINT_DISABLE: '1' },
      stdio: 'ignore',
    });
  }, 120000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('synthesizes every stack with all secrets set in the environment', () => {
    expect(readdirSync(join(out, 'stacks')).sort()).toEqual(['gateway', 'hosts', 'vms-e0', 'vms-e10']);
  });

  const filesContaining = (value: string) => {
    const needles = [value, ...value.split('\n').filter((line) => line.length >= 8)];
    return filesUnder(out).filter((file) => {
      const text = readFileSync(file, 'utf8');
      return needles.some((needle) => text.includes(needle));
    });
  };

  it('the search finds what is there (so the checks below can fail)', () => {
    expect(filesContaining('pve.master-rack.b.1-2.example.com').length).toBeGreaterThan(0);
  });

  it.each(Object.keys(secrets))('no file under cdktf.out contains %s', (name) => {
    expect(filesContaining(secrets[name as keyof typeof secrets])).toEqual([]);
  });

  it('refers to the secrets only through sensitive variables', () => {
    const hosts = JSON.parse(readFileSync(join(out, 'stacks/hosts/cdk.tf.json'), 'utf8'));
    for (const name of ['cias_ssh_private_key', 'cias_pve_root_password', 'cias_vrrp_auth_pass']) {
      expect(hosts.variable[name]).toMatchObject({ sensitive: true });
    }
    const text = JSON.stringify(hosts);
    expect(text).toContain('${var.cias_vrrp_auth_pass}');
    expect(text).toContain('${sha256(var.cias_vrrp_auth_pass)}');
    const gateway = JSON.parse(readFileSync(join(out, 'stacks/gateway/cdk.tf.json'), 'utf8'));
    expect(gateway.variable.cias_gateway_admin_password).toMatchObject({ sensitive: true });
    expect(JSON.stringify(gateway.provider)).not.toMatch(/pm_api_token/);
  });
});
