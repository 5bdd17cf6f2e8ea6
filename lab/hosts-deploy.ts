/**
 * The real deployment into the lab: the `hosts` stack of the lab's copy of cluster.yaml, synthesized
 * with terraform_data resources, then `terraform init` and `terraform apply` from the root namespace,
 * whose provisioners SSH into the nodes — what an operator runs against hardware.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeLabClusterFile } from './cluster';
import { LabDeployer, terraformApply, terraformInit, terraformPlanIsEmpty, TerraformOptions } from './deploy';
import type { Lab } from './lab';
import { LabPaths } from './paths';
import { ensureRootPassword } from './pve';
import { LabClusterLayout, labLayoutFromModel } from './cluster';

/** Where a lab keeps its deployment: the cluster copy, cdktf.out, terraform state and log. */
export function deployDir(paths: LabPaths): string {
  return path.join(paths.dataDir, 'deploy');
}

/** Secrets the hosts stack reads from TF_VAR_*; in the lab they are the lab's own. */
export function labTerraformEnv(paths: LabPaths): Record<string, string> {
  return {
    TF_VAR_cias_ssh_private_key: fs.readFileSync(paths.operatorKey, 'utf8'),
    TF_VAR_cias_pve_root_password: ensureRootPassword(paths),
    // VRRP PASS authentication uses at most 8 characters.
    TF_VAR_cias_vrrp_auth_pass: 'cias-lab',
  };
}

/**
 * Synthesizes every stack of `clusterFile` into `outdir` (in this process, as main.ts does) and
 * returns the hosts stack's directory. Terraform state paths are relative to `projectDir`.
 */
export async function synthesizeHostsStack(clusterFile: string, outdir: string, projectDir: string): Promise<string> {
  const { loadClusterFile } = await import('../model/load');
  const { App } = await import('cdktf');
  const { buildCias } = await import('../stacks/cias');
  const { HOSTS_STACK_NAME } = await import('../stacks/hosts-stack');
  const { model } = loadClusterFile(clusterFile);
  fs.rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir });
  buildCias(app, model, { projectDir });
  app.synth();
  const stackDir = path.join(outdir, 'stacks', HOSTS_STACK_NAME);
  if (!fs.existsSync(path.join(stackDir, 'cdk.tf.json'))) throw new Error(`synthesis wrote no ${stackDir}/cdk.tf.json`);
  return stackDir;
}

/** Writes the lab copy of `clusterFile` and synthesizes it; returns terraform options for its hosts stack. */
export async function prepareHostsStack(lab: Lab, clusterFile: string): Promise<TerraformOptions> {
  const dir = deployDir(lab.paths);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const copy = path.join(dir, 'cluster.yaml');
  writeLabClusterFile(clusterFile, copy, { topology: lab.topology, sshKeyFile: lab.paths.operatorKey, stateDirectory: '.' });
  const workDir = await synthesizeHostsStack(copy, path.join(dir, 'cdktf.out'), dir);
  return { workDir, env: labTerraformEnv(lab.paths), logFile: path.join(dir, 'terraform.log') };
}

/** Deploys (or re-deploys, e.g. after a node was removed from the file) the hosts stack into the lab. */
export async function applyHostsStack(lab: Lab, clusterFile: string, log: (message: string) => void = () => undefined): Promise<void> {
  log(`synthesizing the hosts stack of ${clusterFile}`);
  const options = await prepareHostsStack(lab, clusterFile);
  log('terraform init');
  await terraformInit(options);
  log('terraform apply');
  await terraformApply(options);
}

/** True when re-applying `clusterFile` would change nothing (`terraform plan -detailed-exitcode`). */
export async function hostsStackIsConverged(lab: Lab, clusterFile: string): Promise<boolean> {
  const options = await prepareHostsStack(lab, clusterFile);
  await terraformInit(options);
  return terraformPlanIsEmpty(options);
}

export function hostsStackDeployer(clusterFile: string): LabDeployer {
  return {
    description: `hosts stack of ${clusterFile} (terraform_data over SSH)`,
    deploy: (lab, log) => applyHostsStack(lab, clusterFile, log),
  };
}

/** Everything `labUp` needs to rehearse a cluster file: its nodes and network, and its deployment. */
export async function labOptionsForClusterFile(clusterFile: string): Promise<LabClusterLayout & { readonly deploy: LabDeployer }> {
  const { loadClusterFile } = await import('../model/load');
  const { model } = loadClusterFile(clusterFile);
  return { ...labLayoutFromModel(model), deploy: hostsStackDeployer(clusterFile) };
}
