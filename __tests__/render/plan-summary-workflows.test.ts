/**
 * The GitHub workflows that plan pull requests and deploy main: they parse, pin their actions, keep
 * secrets away from steps that do not run terraform, call only commands and flags that exist, and
 * their shell and JavaScript do what they claim (run here with stand-ins for GitHub).
 */
import { execFileSync, spawnSync } from 'child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as yaml from 'js-yaml';
import { USAGE } from '../../cli/main';
import { GITHUB_COMMENT_LIMIT, PLAN_SUMMARY_MARKER } from '../../render/plan-summary';
import { FIXTURES } from './plan-summary-helpers';

const ROOT = join(__dirname, '../..');
const WORKFLOWS = join(ROOT, '.github/workflows');
const STACKS_SCRIPT = join(WORKFLOWS, 'scripts/cias-stacks.sh');

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  environment?: string;
  'runs-on': string;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const load = (file: string): Workflow => yaml.load(readFileSync(join(WORKFLOWS, file), 'utf8')) as Workflow;
const plan = load('plan.yml');
const deploy = load('deploy.yml');
const workflows: [string, Workflow][] = [
  ['plan.yml', plan],
  ['deploy.yml', deploy],
];
const allSteps = workflows.flatMap(([file, wf]) => Object.entries(wf.jobs).flatMap(([job, j]) => j.steps.map((s) => ({ file, job, step: s }))));

function step(wf: Workflow, job: string, name: string): Step {
  const found = wf.jobs[job].steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name} in ${job}`);
  return found;
}

const SECRET_NAMES = [
  'PM_API_TOKEN_ID',
  'PM_API_TOKEN_SECRET',
  'TF_VAR_cias_ssh_private_key',
  'TF_VAR_cias_pve_root_password',
  'TF_VAR_cias_gateway_admin_password',
  'TF_VAR_cias_vrrp_auth_pass',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'PG_CONN_STR',
  'TF_HTTP_USERNAME',
  'TF_HTTP_PASSWORD',
];

describe('workflow structure', () => {
  it('plans pull requests with read access to code and write access to pull requests only', () => {
    expect(Object.keys(plan.on)).toEqual(['pull_request']);
    expect(plan.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    expect(plan.concurrency).toEqual({ group: 'cias-plan-${{ github.event.pull_request.number }}', 'cancel-in-progress': true });
    expect(plan.jobs.plan.if).toBe('github.event.pull_request.head.repo.full_name == github.repository');
  });

  it('deploys main through an approved production environment, one run at a time, never cancelled', () => {
    expect(deploy.on).toEqual({ push: { branches: ['main'] }, workflow_dispatch: null });
    expect(deploy.permissions).toEqual({ contents: 'read' });
    expect(deploy.concurrency).toEqual({ group: 'cias-deploy', 'cancel-in-progress': false });
    expect(deploy.jobs.plan.environment).toBeUndefined();
    expect(deploy.jobs.deploy).toMatchObject({ needs: 'plan', environment: 'production', if: "needs.plan.outputs.changes == 'true'" });
    expect(deploy.jobs.plan.outputs).toEqual({ changes: '${{ steps.plan.outputs.changes }}' });
    const applying = allSteps.filter(({ step: s }) => /cias-stacks\.sh apply|terraform apply|cdktf deploy/.test(s.run ?? ''));
    expect(applying.map(({ file, job }) => `${file}:${job}`)).toEqual(['deploy.yml:deploy']);
    const names = deploy.jobs.deploy.steps.map((s) => s.name);
    expect(names.indexOf('Check that this is the approved plan')).toBeLessThan(names.indexOf('Apply'));
  });

  it('pins every action by its major version and sets up Node 20 and Terraform 1.11.4 without the wrapper', () => {
    const uses = allSteps.map(({ step: s }) => s.uses).filter((u): u is string => u !== undefined);
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(action).toMatch(/^[\w.-]+\/[\w.-]+@v\d+$/);
    for (const { step: s } of allSteps) {
      if (s.uses?.startsWith('actions/setup-node@')) expect(s.with).toEqual({ 'node-version': 20, cache: 'npm' });
      if (s.uses?.startsWith('hashicorp/setup-terraform@')) expect(s.with).toEqual({ terraform_version: '1.11.4', terraform_wrapper: false });
      if (s.uses?.startsWith('actions/checkout@')) expect(s.with).toEqual({ 'persist-credentials': false });
    }
  });

  it('gives secrets only to the steps that run terraform (npm ci runs install scripts of dependencies)', () => {
    for (const [, wf] of workflows) {
      expect(JSON.stringify(wf.env ?? {})).not.toContain('secrets.');
      for (const job of Object.values(wf.jobs)) expect(JSON.stringify(job.env ?? {})).not.toContain('secrets.');
    }
    for (const { step: s } of allSteps) {
      const secrets = Object.entries(s.env ?? {}).filter(([, v]) => v.includes('secrets.'));
      for (const [name, value] of secrets) expect(value).toBe(`\${{ secrets.${name} }}`);
      const runsTerraform = /cias-stacks\.sh (plan|apply)/.test(s.run ?? '');
      if (runsTerraform) expect(secrets.map(([n]) => n)).toEqual(SECRET_NAMES);
      else if (s.name === 'Load the SSH key into an agent') expect(secrets.map(([n]) => n)).toEqual(['TF_VAR_cias_ssh_private_key']);
      else expect(secrets).toEqual([]);
    }
  });

  it('keeps expressions out of shell scripts (values come through env:)', () => {
    for (const { step: s } of allSteps) if (s.run) expect(s.run).not.toContain('${{');
  });
});

describe('workflow commands', () => {
  const runs = allSteps.filter(({ step: s }) => s.run).map(({ file, step: s }) => ({ file, name: s.name ?? s.run!, run: s.run! }));

  it('are shellcheck-clean, like the script they call', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cias-wf-sc-'));
    try {
      const files = runs.map(({ file, name, run }, i) => {
        const path = join(dir, `${i}-${file}.sh`);
        // GitHub runs `run:` blocks with bash -e -o pipefail.
        writeFileSync(path, `#!/usr/bin/env bash\n# ${name}\nset -eo pipefail\n${run}`);
        return path;
      });
      const result = spawnSync('shellcheck', ['-s', 'bash', '-x', STACKS_SCRIPT, ...files], { encoding: 'utf8' });
      expect(result.stdout + result.stderr).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('call only cias commands that exist', () => {
    const known = new Set([...USAGE.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((m) => m[1]));
    known.add('plan-summary');
    const called = runs.flatMap(({ run }) => [...run.matchAll(/npx cias ([a-z-]+)/g)].map((m) => m[1]));
    expect(called.length).toBeGreaterThan(0);
    for (const command of called) expect(known).toContain(command);
    const npx = runs.flatMap(({ run }) => [...run.matchAll(/npx ([a-z-]+)/g)].map((m) => m[1]));
    expect(new Set(npx)).toEqual(new Set(['cias', 'cdktf']));
    expect(runs.filter(({ run }) => run.includes('npx cdktf')).map(({ run }) => run.trim())).toEqual(Array(3).fill('npx cdktf synth'));
  });

  it('give terraform only flags it knows', () => {
    const script = readFileSync(STACKS_SCRIPT, 'utf8');
    const used = new Map<string, Set<string>>();
    for (const match of script.matchAll(/terraform -chdir="[^"]+" (\w+) ([^>\n]*)/g)) {
      const flags = used.get(match[1]) ?? new Set<string>();
      for (const flag of match[2].matchAll(/(?:^|\s)(-[a-z-]+)/g)) flags.add(flag[1]);
      used.set(match[1], flags);
    }
    expect(script).toContain('lock=(-lock=false)');
    used.get('plan')!.add('-lock');
    expect([...used.keys()].sort()).toEqual(['apply', 'init', 'plan', 'show']);
    for (const [command, flags] of used) {
      const help = spawnSync('terraform', [command, '-help'], { encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
      const text = help.stdout + help.stderr;
      for (const flag of flags) expect(`${command} ${text.includes(`  ${flag}`) ? flag : `${flag} missing`}`).toBe(`${command} ${flag}`);
    }
  });
});

/** A PATH entry whose `npx cias …` runs the TypeScript CLI (plan-summary directly, the rest via main). */
function npxShim(dir: string): string {
  const bin = join(dir, 'shim-bin');
  mkdirSync(bin);
  const runner = join(bin, 'cias-runner.js');
  writeFileSync(
    runner,
    `require(${JSON.stringify(require.resolve('ts-node'))}).register({ transpileOnly: true, project: ${JSON.stringify(join(ROOT, 'tsconfig.json'))} });
const [command, ...args] = process.argv.slice(2);
const io = { out: (l) => process.stdout.write(l + '\\n'), err: (l) => process.stderr.write(l + '\\n') };
if (command === 'plan-summary') process.exitCode = require(${JSON.stringify(join(ROOT, 'cli/plan-summary'))}).planSummaryCommand(args, io);
else require(${JSON.stringify(join(ROOT, 'cli/main'))}).main([command, ...args], io).then((code) => { process.exitCode = code; });
`,
  );
  writeFileSync(join(bin, 'npx'), `#!/usr/bin/env bash\nset -euo pipefail\n[[ "$1" == cias ]] || { echo "unexpected: npx $*" >&2; exit 99; }\nshift\nexec node ${JSON.stringify(runner)} "$@"\n`);
  chmodSync(join(bin, 'npx'), 0o755);
  return bin;
}

function runStep(s: Step, env: Record<string, string>): { status: number; out: string } {
  const result = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', s.run!], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: result.status ?? -1, out: result.stdout + result.stderr };
}

describe('summary steps', () => {
  let temp: string;
  let env: Record<string, string>;

  beforeAll(() => {
    temp = mkdtempSync(join(tmpdir(), 'cias-wf-run-'));
    const plans = join(temp, 'cias-plans');
    mkdirSync(plans);
    copyFileSync(join(FIXTURES, 'gateway-replace.json'), join(plans, 'gateway.json'));
    copyFileSync(join(FIXTURES, 'vms-e0.json'), join(plans, 'vms-e0.json'));
    env = {
      PATH: `${npxShim(temp)}:${process.env.PATH}`,
      RUNNER_TEMP: temp,
      CIAS_CLUSTER: join(ROOT, 'cluster.yaml'),
      GITHUB_STEP_SUMMARY: join(temp, 'step-summary.md'),
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_REPOSITORY: 'ops/cias',
      GITHUB_RUN_ID: '42',
      GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
      HEAD_SHA: 'fedcba9876543210fedcba9876543210fedcba98',
    };
  });
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it('plan.yml writes the summary for the comment and the job summary', () => {
    const result = runStep(step(plan, 'plan', 'Summarize'), env);
    expect(result).toMatchObject({ status: 0 });
    const summary = readFileSync(join(temp, 'cias-plan-summary.md'), 'utf8');
    expect(summary.startsWith(`${PLAN_SUMMARY_MARKER}\n## cias plan\n\nPlan of fedcba987654 against the current state ([workflow run](https://github.example/ops/cias/actions/runs/42))`)).toBe(true);
    expect(summary).toContain('**Re-creates the gateway VM (VMID 100 `cias-router`)**');
    expect(readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8')).toBe(summary);
  });

  it('deploy.yml applies only the plan the reviewers saw', () => {
    const check = step(deploy, 'deploy', 'Check that this is the approved plan');
    expect(runStep(step(deploy, 'plan', 'Summarize for the reviewers'), env).status).toBe(0);
    mkdirSync(join(temp, 'approved'));
    copyFileSync(join(temp, 'cias-plan-summary.md'), join(temp, 'approved/cias-plan-summary.md'));
    expect(runStep(check, { ...env, FAILED_STACKS: '' })).toMatchObject({ status: 0 });

    copyFileSync(join(FIXTURES, 'gateway-update.json'), join(temp, 'cias-plans/gateway.json'));
    const changed = runStep(check, { ...env, FAILED_STACKS: '' });
    expect(changed.status).toBe(1);
    expect(changed.out).toContain('::error::the plan changed since it was approved');

    const failed = runStep(check, { ...env, FAILED_STACKS: 'vms-e0' });
    expect(failed.status).toBe(1);
    expect(failed.out).toContain('::error::terraform plan failed for: vms-e0');
  });
});

describe('the pull-request comment script', () => {
  const script = step(plan, 'plan', 'Comment on the pull request').with!.script as string;
  // actions/github-script runs the text as the body of an async function.
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<void>;
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cias-wf-js-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function comment(body: string, existing: { id: number; user: { type: string }; body: string }[]) {
    const file = join(dir, 'summary.md');
    writeFileSync(file, body);
    const calls: [string, Record<string, unknown>][] = [];
    const listComments = async () => ({ data: existing });
    const github = {
      rest: {
        issues: {
          listComments,
          updateComment: async (p: Record<string, unknown>) => void calls.push(['update', p]),
          createComment: async (p: Record<string, unknown>) => {
            calls.push(['create', p]);
            return { data: { html_url: 'https://github.example/c/1' } };
          },
        },
      },
      paginate: async (method: unknown, params: Record<string, unknown>) => {
        expect(method).toBe(listComments);
        expect(params).toEqual({ owner: 'ops', repo: 'cias', issue_number: 7, per_page: 100 });
        return existing;
      },
    };
    const context = { repo: { owner: 'ops', repo: 'cias' }, issue: { number: 7 } };
    const saved = process.env.CIAS_SUMMARY_FILE;
    process.env.CIAS_SUMMARY_FILE = file;
    try {
      await new AsyncFunction('require', 'github', 'context', 'core', script)(require, github, context, { info: () => undefined });
    } finally {
      if (saved === undefined) delete process.env.CIAS_SUMMARY_FILE;
      else process.env.CIAS_SUMMARY_FILE = saved;
    }
    return calls;
  }

  it('uses the marker the summary starts with', () => {
    expect(script).toContain(`const marker = '${PLAN_SUMMARY_MARKER}';`);
  });

  it('creates the comment when there is none', async () => {
    const body = `${PLAN_SUMMARY_MARKER}\n## cias plan\n`;
    expect(await comment(body, [{ id: 1, user: { type: 'User' }, body: 'LGTM' }])).toEqual([['create', { owner: 'ops', repo: 'cias', issue_number: 7, body }]]);
  });

  it('updates its own earlier comment, not a human quoting it', async () => {
    const body = `${PLAN_SUMMARY_MARKER}\n## cias plan\nnew\n`;
    const calls = await comment(body, [
      { id: 3, user: { type: 'User' }, body: `${PLAN_SUMMARY_MARKER}\nquoted` },
      { id: 5, user: { type: 'Bot' }, body: `${PLAN_SUMMARY_MARKER}\nold` },
    ]);
    expect(calls).toEqual([['update', { owner: 'ops', repo: 'cias', comment_id: 5, body }]]);
  });

  it('keeps a comment within GitHub’s limit', async () => {
    const [[, params]] = await comment(`${PLAN_SUMMARY_MARKER}\n${'x'.repeat(70000)}`, []);
    const body = params.body as string;
    expect(body.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(body.endsWith('… cut to fit one comment; the workflow run has the full summary.\n')).toBe(true);
  });
});

describe('cias-stacks.sh', () => {
  let root: string;
  let out: string;
  let outputs: string;
  const STACKS = ['vms-e10', 'broken', 'gateway', 'vms-e2', 'hosts'];

  const stackJson = (name: string) => ({
    terraform: { backend: { local: { path: join(root, 'state', `${name}.tfstate`) } } },
    resource: {
      terraform_data: {
        [`${name}_push_0A1B2C3D`]: name === 'broken' ? { input: '${terraform_data.missing.id}' } : { input: { stack: name } },
      },
    },
  });

  function script(args: string[], env: Record<string, string> = {}): { status: number; out: string } {
    writeFileSync(outputs, '');
    const result = spawnSync('bash', [STACKS_SCRIPT, ...args], {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        CHECKPOINT_DISABLE: '1',
        TF_IN_AUTOMATION: '1',
        TF_CLI_CONFIG_FILE: join(root, 'terraformrc'),
        GITHUB_OUTPUT: outputs,
        CIAS_ALLOW_LOCAL_STATE: 'true',
        ...env,
      },
    });
    return { status: result.status ?? -1, out: result.stdout + result.stderr };
  }
  const stepOutputs = () => readFileSync(outputs, 'utf8');
  const order = (text: string, verb: string) => [...text.matchAll(new RegExp(`::group::terraform ${verb} (\\S+)`, 'g'))].map((m) => m[1]);

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'cias-wf-stacks-'));
    out = join(root, 'plans');
    outputs = join(root, 'github-output');
    writeFileSync(join(root, 'terraformrc'), '');
    mkdirSync(join(root, 'state'));
    for (const name of STACKS) {
      mkdirSync(join(root, 'cdktf.out/stacks', name), { recursive: true });
      writeFileSync(join(root, 'cdktf.out/stacks', name, 'cdk.tf.json'), JSON.stringify(stackJson(name)));
    }
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses local state unless allowed, and says why in the failure log', () => {
    const result = script(['plan', out, '--no-lock'], { CIAS_ALLOW_LOCAL_STATE: 'false' });
    expect(result.status).toBe(0);
    expect(stepOutputs()).toBe('failed=hosts gateway vms-e2 vms-e10 broken\nchanges=false\n');
    expect(readFileSync(join(out, 'hosts.failed.txt'), 'utf8')).toContain('keeps its state in a local file');
  });

  it('plans every stack in apply order, with a JSON plan per stack and a log for the one that fails', () => {
    const result = script(['plan', out, '--no-lock']);
    expect(result.status).toBe(0);
    expect(order(result.out, 'plan')).toEqual(['hosts', 'gateway', 'vms-e2', 'vms-e10', 'broken']);
    expect(stepOutputs()).toBe('failed=broken\nchanges=true\n');
    expect(readFileSync(join(out, 'broken.failed.txt'), 'utf8')).toContain('Reference to undeclared resource');
    expect(existsSync(join(out, 'broken.json'))).toBe(false);
    const hosts = JSON.parse(readFileSync(join(out, 'hosts.json'), 'utf8'));
    expect(hosts.resource_changes.map((rc: { address: string; change: { actions: string[] } }) => [rc.address, rc.change.actions])).toEqual([
      ['terraform_data.hosts_push_0A1B2C3D', ['create']],
    ]);
    expect(readFileSync(join(out, 'failed-stacks'), 'utf8')).toBe('broken\n');
  });

  it('applies nothing while a stack has no saved plan', () => {
    const result = script(['apply']);
    expect(result.status).toBe(2);
    expect(result.out).toContain('stack broken has no saved plan');
    expect(existsSync(join(root, 'state/hosts.tfstate'))).toBe(false);
  });

  it('applies the saved plans in order, after which nothing is left to change', () => {
    rmSync(join(root, 'cdktf.out/stacks/broken'), { recursive: true });
    expect(script(['plan', out]).status).toBe(0);
    expect(stepOutputs()).toBe('failed=\nchanges=true\n');
    const applied = script(['apply']);
    expect(applied.status).toBe(0);
    expect(order(applied.out, 'apply')).toEqual(['hosts', 'gateway', 'vms-e2', 'vms-e10']);
    for (const name of ['hosts', 'gateway', 'vms-e2', 'vms-e10']) expect(existsSync(join(root, 'state', `${name}.tfstate`))).toBe(true);
    expect(script(['plan', out]).status).toBe(0);
    expect(stepOutputs()).toBe('failed=\nchanges=false\n');
  });

  it('removes the plan files, which hold secrets in clear text', () => {
    expect(existsSync(join(root, 'cdktf.out/stacks/hosts/tfplan'))).toBe(true);
    expect(script(['clean', out]).status).toBe(0);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(root, 'cdktf.out/stacks/hosts/tfplan'))).toBe(false);
  });

  it('rejects a wrong command line', () => {
    expect(script(['plan']).status).toBe(2);
    expect(script(['plan', out, '--lock']).status).toBe(2);
    expect(script(['deploy']).status).toBe(2);
    expect(execFileSync('bash', ['-n', STACKS_SCRIPT]).toString()).toBe('');
  });
});
