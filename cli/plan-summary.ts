/**
 * `cias plan-summary`: Markdown summary of the stacks' `terraform show -json` plans, for a pull-request
 * comment or a job summary. Reads files; the summary itself is render/plan-summary.ts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import { basename, join } from 'path';
import { PlanFormatError, parseTerraformPlan, StackPlan } from '../render/plan-summary-changes';
import { FailedStackPlan, renderPlanSummary } from '../render/plan-summary';
import { ClusterModel } from '../model/cluster';
import { loadClusterFile } from '../model/load';
import { ClusterConfigError } from '../model/problems';
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE, UsageError } from './exit-codes';
import { loadOrReport, Output } from './validate';

export const PLAN_SUMMARY_USAGE = `Usage: cias plan-summary [--cluster f] [--title t] [--subtitle s] [--failed <stack>=<log>]... <plans>...

  <plans>  <stack>=<plan.json>, a <stack>.json file, or a directory of <stack>.json files
           (terraform show -json <planfile>) and <stack>.failed.txt logs of plans that failed.
  --cluster f      cluster.yaml the plans come from (default: $CIAS_CLUSTER or ./cluster.yaml when it
                   exists); names the bootstrap node and the retired addresses.
  --failed s=log   a stack whose terraform plan failed, with its output.
  --title, --subtitle   heading and the line under it.

Prints Markdown (at most 65,536 characters, one GitHub comment). Exit 0 ok, 1 bad input, 2 bad usage.`;

/** Stack names as cdktf writes them under cdktf.out/stacks. */
const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const PLAN_SUFFIX = '.json';
const FAILED_SUFFIX = '.failed.txt';

class InputError extends Error {}

interface Inputs {
  readonly plans: Map<string, string>;
  readonly failed: Map<string, string>;
  readonly clusterFile?: string;
  readonly clusterExplicit: boolean;
  readonly title?: string;
  readonly subtitle?: string;
}

export function planSummaryCommand(args: readonly string[], io: Output): number {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(PLAN_SUMMARY_USAGE);
    return EXIT_OK;
  }
  try {
    const inputs = parseCommandLine(args);
    const cluster = loadContext(inputs, io);
    if (typeof cluster === 'number') return cluster;
    const stacks: StackPlan[] = [...inputs.plans].map(([stack, file]) => ({ stack, plan: parseTerraformPlan(readText(file), file) }));
    const failed: FailedStackPlan[] = [...inputs.failed].map(([stack, file]) => ({ stack, log: readText(file) }));
    io.out(renderPlanSummary({ stacks, failed, cluster, title: inputs.title, subtitle: inputs.subtitle }).trimEnd());
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`cias plan-summary: ${error.message}\n\n${PLAN_SUMMARY_USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof InputError || error instanceof PlanFormatError) {
      io.err(`cias plan-summary: ${error.message}`);
      return EXIT_BAD_INPUT;
    }
    throw error;
  }
}

function parseCommandLine(args: readonly string[]): Inputs {
  const plans = new Map<string, string>();
  const failed = new Map<string, string>();
  const single: Record<'cluster' | 'title' | 'subtitle', string | undefined> = { cluster: undefined, title: undefined, subtitle: undefined };
  const add = (into: Map<string, string>, stack: string, file: string, what: string) => {
    if (!STACK_NAME.test(stack)) throw new UsageError(`${JSON.stringify(stack)} is not a stack name`);
    if (into.has(stack)) throw new InputError(`two ${what} for stack ${stack}: ${into.get(stack)} and ${file}`);
    into.set(stack, file);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const option = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (option) {
      const [, name, inline] = option;
      if (name !== 'cluster' && name !== 'title' && name !== 'subtitle' && name !== 'failed') throw new UsageError(`unknown option ${arg}`);
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`option --${name} needs a value`);
      if (name === 'failed') {
        const [stack, file] = splitPair(value, '--failed');
        add(failed, stack, file, 'failure logs');
      } else single[name] = value;
      continue;
    }
    if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    if (/^[^=/]+=/.test(arg)) {
      const [stack, file] = splitPair(arg, 'a plan');
      add(plans, stack, file, 'plans');
    } else if (isDirectory(arg)) {
      const before = plans.size + failed.size;
      for (const entry of readdirSync(arg).sort()) {
        if (entry.endsWith(FAILED_SUFFIX)) add(failed, entry.slice(0, -FAILED_SUFFIX.length), join(arg, entry), 'failure logs');
        else if (entry.endsWith(PLAN_SUFFIX)) add(plans, entry.slice(0, -PLAN_SUFFIX.length), join(arg, entry), 'plans');
      }
      if (plans.size + failed.size === before) throw new InputError(`${arg}: no <stack>${PLAN_SUFFIX} or <stack>${FAILED_SUFFIX} files`);
    } else if (arg.endsWith(PLAN_SUFFIX)) {
      add(plans, basename(arg, PLAN_SUFFIX), arg, 'plans');
    } else throw new UsageError(`${arg}: expected <stack>=<plan.json>, <stack>.json or a directory`);
  }
  if (plans.size + failed.size === 0) throw new UsageError('no plans given');
  for (const stack of failed.keys()) {
    if (plans.has(stack)) throw new InputError(`stack ${stack} has both a plan (${plans.get(stack)}) and a failure log (${failed.get(stack)})`);
  }
  const envCluster = process.env.CIAS_CLUSTER || 'cluster.yaml';
  return {
    plans,
    failed,
    clusterFile: single.cluster ?? (existsSync(envCluster) ? envCluster : undefined),
    clusterExplicit: single.cluster !== undefined,
    title: single.title,
    subtitle: single.subtitle,
  };
}

function splitPair(text: string, what: string): [string, string] {
  const at = text.indexOf('=');
  const stack = text.slice(0, at);
  const file = text.slice(at + 1);
  if (at <= 0 || file.length === 0) throw new UsageError(`${what} must be <stack>=<file>, got ${JSON.stringify(text)}`);
  return [stack, file];
}

/** An explicit --cluster must load; the implicit default only adds context when it validates. */
function loadContext(inputs: Inputs, io: Output): ClusterModel | undefined | number {
  if (!inputs.clusterFile) return undefined;
  if (inputs.clusterExplicit) return loadOrReport(inputs.clusterFile, io);
  try {
    return loadClusterFile(inputs.clusterFile).model;
  } catch (error) {
    if (!(error instanceof ClusterConfigError)) throw error;
    io.err(`cias plan-summary: ${inputs.clusterFile} does not validate (run cias validate); summarising without it`);
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
