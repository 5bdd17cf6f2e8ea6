/**
 * Deployment into a running lab. `lab up` calls a {@link LabDeployer} once the nodes answer SSH; the
 * real one runs terraform on the synthesized `hosts` stack (terraform_data resources whose
 * provisioners SSH into the nodes), exactly as an operator would against real hardware.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runAsync, RunResult } from './exec';
import type { Lab } from './lab';

export interface LabDeployer {
  /** One line for logs: what this deployer installs. */
  readonly description: string;
  deploy(lab: Lab, log: (message: string) => void): Promise<void>;
}

export interface TerraformOptions {
  /** Directory holding the synthesized stack (`cdk.tf.json`), e.g. `cdktf.out/stacks/hosts`. */
  readonly workDir: string;
  /** Extra environment (TF_VAR_…). @default none */
  readonly env?: Readonly<Record<string, string>>;
  /** @default `terraform` */
  readonly terraformBinary?: string;
  /** Per terraform command. @default 900000 */
  readonly timeoutMs?: number;
  /** Appends every command's output here. @default `<workDir>/cias-lab-terraform.log` */
  readonly logFile?: string;
}

function terraformEnv(options: TerraformOptions): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    ...options.env,
  };
}

async function terraform(options: TerraformOptions, args: readonly string[], allowFailure = false): Promise<RunResult> {
  const logFile = options.logFile ?? path.join(options.workDir, 'cias-lab-terraform.log');
  fs.appendFileSync(logFile, `$ terraform ${args.join(' ')}\n`);
  const result = await runAsync(options.terraformBinary ?? 'terraform', [...args, '-no-color'], {
    cwd: options.workDir,
    env: terraformEnv(options),
    timeoutMs: options.timeoutMs ?? 900_000,
    allowFailure: true,
    teeFile: logFile,
  });
  fs.appendFileSync(logFile, `exit ${result.status}\n\n`);
  if (result.status !== 0 && !allowFailure) {
    throw new Error(`terraform ${args.join(' ')} exited ${result.status} (log: ${logFile}):\n${result.stderr.trim().slice(-3000)}`);
  }
  return result;
}

export async function terraformInit(options: TerraformOptions): Promise<void> {
  await terraform(options, ['init', '-input=false']);
}

export async function terraformApply(options: TerraformOptions): Promise<RunResult> {
  return terraform(options, ['apply', '-input=false', '-auto-approve']);
}

/**
 * `terraform plan -detailed-exitcode`: true when nothing would change (exit 0), false when changes
 * are pending (exit 2); any other exit is an error.
 */
export async function terraformPlanIsEmpty(options: TerraformOptions): Promise<boolean> {
  const result = await terraform(options, ['plan', '-input=false', '-detailed-exitcode'], true);
  if (result.status === 0) return true;
  if (result.status === 2) return false;
  throw new Error(`terraform plan exited ${result.status}:\n${result.stderr.trim().slice(-3000)}`);
}

export interface TerraformDeployerOptions extends TerraformOptions {
  /**
   * Produces `workDir` before terraform runs (e.g. `cdktf synth` of the hosts stack for this lab).
   * @default nothing: workDir already holds the stack
   */
  readonly synthesize?: (lab: Lab) => Promise<void>;
}

/** Synthesizes (optionally), then `terraform init` and `terraform apply` in `workDir`. */
export function terraformDeployer(options: TerraformDeployerOptions): LabDeployer {
  return {
    description: `terraform apply in ${options.workDir}`,
    async deploy(lab, log) {
      if (options.synthesize) {
        log('synthesizing the stack');
        await options.synthesize(lab);
      }
      log('terraform init');
      await terraformInit(options);
      log('terraform apply');
      await terraformApply(options);
    },
  };
}
