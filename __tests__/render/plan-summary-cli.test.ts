import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { planSummaryCommand, PLAN_SUMMARY_USAGE } from '../../cli/plan-summary';
import { PLAN_SUMMARY_MARKER } from '../../render/plan-summary';
import { alertItems, FIXTURES, tableRows } from './plan-summary-helpers';

const EXAMPLE = join(__dirname, '../../cluster.yaml');

function run(args: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = planSummaryCommand(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('cias plan-summary', () => {
  let dir: string;
  const savedCluster = process.env.CIAS_CLUSTER;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cias-plansum-cli-'));
    // Keep the implicit default away from the repository's cluster.yaml unless a test asks for it.
    process.env.CIAS_CLUSTER = join(dir, 'absent.yaml');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    if (savedCluster === undefined) delete process.env.CIAS_CLUSTER;
    else process.env.CIAS_CLUSTER = savedCluster;
  });

  it('reads a directory of <stack>.json plans and <stack>.failed.txt logs', () => {
    const plans = join(dir, 'plans');
    mkdirSync(plans);
    copyFileSync(join(FIXTURES, 'vms-e0.json'), join(plans, 'vms-e0.json'));
    copyFileSync(join(FIXTURES, 'gateway-update.json'), join(plans, 'gateway.json'));
    writeFileSync(join(plans, 'hosts.failed.txt'), 'Error: Failed to query available provider packages\n');
    writeFileSync(join(plans, 'hosts.log'), 'ignored\n');
    const { code, out } = run(['--cluster', EXAMPLE, plans]);
    expect(code).toBe(0);
    expect(out.startsWith(PLAN_SUMMARY_MARKER)).toBe(true);
    expect(alertItems(out, 'CAUTION')[0]).toBe('**terraform plan failed for stack `hosts`**: nothing below covers it (log at the end of the alerts).');
    expect(out).toContain('Error: Failed to query available provider packages');
    expect(tableRows(out, 'Resources per stack').map((r) => r[0])).toEqual(['`gateway`', '`vms-e0`', '`hosts`']);
    expect(out).not.toContain('No cluster.yaml given');
  });

  it('takes <stack>=<file> pairs, <stack>.json files, a title and a subtitle', () => {
    const { code, out } = run([
      `vms-e10=${join(FIXTURES, 'vms-e10.json')}`,
      join(FIXTURES, 'vms-e0.json'),
      '--title',
      'cias deploy plan',
      '--subtitle=Commit abc',
    ]);
    expect(code).toBe(0);
    expect(out).toContain('## cias deploy plan\n\nCommit abc\n');
    expect(tableRows(out, 'Resources per stack').map((r) => r[0])).toEqual(['`vms-e0`', '`vms-e10`']);
    expect(out).toContain('No cluster.yaml given');
  });

  it('takes failures from --failed', () => {
    const log = join(dir, 'gw.log');
    writeFileSync(log, 'Error: 401 authentication failure\n');
    const { code, out } = run(['--failed', `gateway=${log}`]);
    expect(code).toBe(0);
    expect(out).toContain('Error: 401 authentication failure');
  });

  it('uses $CIAS_CLUSTER when no --cluster is given, and goes on without a file that does not validate', () => {
    process.env.CIAS_CLUSTER = EXAMPLE;
    const hosts = `hosts=${join(FIXTURES, 'hosts-retired-node.json')}`;
    expect(run([hosts]).out).not.toContain('No cluster.yaml given');
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'cluster: {}\n');
    process.env.CIAS_CLUSTER = broken;
    const result = run([hosts]);
    expect(result.code).toBe(0);
    expect(result.err).toContain(`${broken} does not validate`);
    expect(result.out).toContain('No cluster.yaml given');
  });

  it('fails with 1 on input it cannot use', () => {
    const notJson = join(dir, 'p.json');
    writeFileSync(notJson, 'Terraform v1.11.4\n');
    expect(run([`hosts=${notJson}`])).toMatchObject({ code: 1, err: expect.stringContaining(`${notJson}: not JSON`) });
    expect(run([`hosts=${join(dir, 'missing.json')}`])).toMatchObject({ code: 1, err: expect.stringContaining('cannot read: ENOENT') });
    expect(run(['--cluster', join(dir, 'missing.yaml'), join(FIXTURES, 'vms-e0.json')]).code).toBe(1);
    const twice = run([`vms-e0=${join(FIXTURES, 'vms-e0.json')}`, join(FIXTURES, 'vms-e0.json')]);
    expect(twice).toMatchObject({ code: 1, err: expect.stringContaining('two plans for stack vms-e0') });
    mkdirSync(join(dir, 'empty'));
    expect(run([join(dir, 'empty')])).toMatchObject({ code: 1, err: expect.stringContaining('no <stack>.json') });
  });

  it('fails with 2 on a wrong command line, and prints its usage for --help', () => {
    expect(run([]).code).toBe(2);
    expect(run(['--bogus', 'x']).code).toBe(2);
    expect(run(['--cluster']).code).toBe(2);
    expect(run(['plan.txt']).code).toBe(2);
    expect(run(['bad name=x.json']).code).toBe(2);
    expect(run(['--help'])).toEqual({ code: 0, out: PLAN_SUMMARY_USAGE, err: '' });
  });
});
