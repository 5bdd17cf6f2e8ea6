/**
 * The summary on real `terraform show -json` output: the hosts stack of the example cluster
 * (terraform_data flavour) is synthesized, applied with local state, edited, and planned again.
 * Provisioners and their SSH connections are stripped before terraform sees the JSON, so nothing
 * connects anywhere; resource addresses, triggers and dependencies stay exactly as synthesized.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'cdktf';
import { ClusterModel } from '../../model/cluster';
import { loadClusterText } from '../../model/load';
import { parseTerraformPlan, TerraformPlanJson } from '../../render/plan-summary-changes';
import { renderPlanSummary } from '../../render/plan-summary';
import { HostsStack } from '../../stacks/hosts-stack';
import { alertItems, row, tableRows, terraformIn } from './plan-summary-helpers';

const EXAMPLE = readFileSync(join(__dirname, '../../cluster.yaml'), 'utf8');
const A = 'pve-master-rack-a-1-1';
const B = 'pve-master-rack-b-1-2';
const C = 'pve-master-rack-c-1-3';
const D = 'pve-master-rack-d-1-4';

function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`snippet not found: ${from}`);
  return text.replace(from, to);
}

const V1 = edit(EXAMPLE, 'resource_type: null_resource', 'resource_type: terraform_data');
const NODE_C = `  - rack: master-rack
    position: c
    ip: 10.254.1.3
    meets_minimum: false             # 4 GB RAM: stores chunks, never master
    disks:
      - { device: sdb, filesystem: ext4 }
`;
const NODE_D = `  - rack: master-rack
    position: d
    ip: 10.254.1.4
    disks:
      - { device: sdb }
`;
/** Node c leaves (and is retired), node d joins, the bootstrap node's priority drops. */
const V2_UNRETIRED = edit(edit(V1, NODE_C, NODE_D), 'priority: 100', 'priority: 90');
const V2 = edit(V2_UNRETIRED, 'retired: []', 'retired:\n  - { ip: 10.254.1.3, hostname: pve.master-rack.c.1-3.example.com, retired_on: "2026-11-25" }');

const model = (text: string): ClusterModel => loadClusterText(text, 'cluster.yaml').model;

/** The hosts stack's Terraform JSON with provisioners and connections removed and state in `dir`. */
function hostsJson(text: string, dir: string): Record<string, unknown> {
  const outdir = mkdtempSync(join(tmpdir(), 'cias-plansum-synth-'));
  try {
    const app = new App({ outdir, skipValidation: true });
    new HostsStack(app, model(text));
    app.synth();
    const json = JSON.parse(readFileSync(join(outdir, 'stacks/hosts/cdk.tf.json'), 'utf8'));
    for (const byName of Object.values(json.resource as Record<string, Record<string, Record<string, unknown>>>)) {
      for (const body of Object.values(byName)) {
        delete body.provisioner;
        delete body.connection;
      }
    }
    json.terraform = { ...json.terraform, backend: { local: { path: join(dir, 'hosts.tfstate') } } };
    return json;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('plan summary of a real hosts-stack plan', () => {
  let work: string;
  let stackDir: string;
  const env = { TF_VAR_cias_pve_root_password: 'not-used-without-provisioners' };

  const planOf = (text: string): TerraformPlanJson => {
    writeFileSync(join(stackDir, 'cdk.tf.json'), JSON.stringify(hostsJson(text, work), null, 2));
    terraformIn(stackDir, ['plan', '-input=false', '-no-color', '-out=tfplan'], env);
    return parseTerraformPlan(terraformIn(stackDir, ['show', '-json', 'tfplan'], env), 'hosts plan');
  };

  let v2: TerraformPlanJson;
  /** How many resources of one node the plan gives one action. */
  const changes = (node: string, action: string) =>
    v2.resource_changes!.filter((rc) => rc.name.startsWith(`${node}_`) && rc.change.actions.join(',') === action).length;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'cias-plansum-'));
    stackDir = join(work, 'hosts');
    mkdirSync(stackDir);
    writeFileSync(join(stackDir, 'cdk.tf.json'), JSON.stringify(hostsJson(V1, work), null, 2));
    terraformIn(stackDir, ['init', '-input=false', '-no-color'], env);
    terraformIn(stackDir, ['apply', '-input=false', '-no-color', '-auto-approve'], env);
    v2 = planOf(V2);
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('plans against state: nothing changes for the version that was applied', () => {
    const md = renderPlanSummary({ stacks: [{ stack: 'hosts', plan: planOf(V1) }], cluster: model(V1) });
    expect(md).toContain('**1 stack**: no changes. The infrastructure matches the configuration.');
    expect(md).not.toContain('[!CAUTION]');
    expect(tableRows(md, 'Nodes')).toEqual([]);
  });

  it('reads the real addresses: every resource of the leaving node and of the new one', () => {
    const addresses = (v2.resource_changes ?? []).map((rc) => rc.address);
    expect(addresses.filter((a) => a.startsWith(`terraform_data.${C}_`)).length).toBeGreaterThan(1);
    // Retired under `retired:`, the leave resource keeps its block with count 0: its one instance is [0].
    expect(addresses).toContainEqual(expect.stringMatching(new RegExp(`^terraform_data\\.${C}_leave_scenario5_[0-9A-F]{8}(\\[0\\])?$`)));
    const leave = v2.resource_changes!.find((rc) => rc.address.startsWith(`terraform_data.${C}_leave_scenario5_`))!;
    expect(leave.change.actions).toEqual(['delete']);
  });

  it('cautions that scenario 5 runs on the node that leaves, and on nothing else', () => {
    const md = renderPlanSummary({ stacks: [{ stack: 'hosts', plan: v2 }], cluster: model(V2) });
    expect(alertItems(md, 'CAUTION')).toEqual([
      `**Node \`${C}\` leaves the cluster.** Its \`leave/scenario5\` resource is destroyed, so scenario 5 runs on it: ` +
        'its VMs migrate away, it hands over the master role if it holds it, leaves the PVE cluster and powers off.',
    ]);
  });

  it('tables the nodes: the leaver first, then the new node, then the changed ones', () => {
    const md = renderPlanSummary({ stacks: [{ stack: 'hosts', plan: v2 }], cluster: model(V2) });
    const rows = tableRows(md, 'Nodes');
    expect(rows.map((r) => r[0]).slice(0, 2)).toEqual([`\`${C}\``, `\`${D}\``]);
    const leaver = row(md, 'Nodes', `\`${C}\``)!;
    expect(leaver[1]).toBe('➖ **leaves** (scenario 5)');
    expect(leaver[2]).toBe(`destroys all ${changes(C, 'delete')} resources`);
    const added = row(md, 'Nodes', `\`${D}\``)!;
    expect(added[1]).toBe('➕ added');
    expect(added[2]).toBe(`creates all ${changes(D, 'create')} resources`);
    const bootstrap = row(md, 'Nodes', `\`${A}\` (bootstrap)`)!;
    expect(bootstrap[1]).toBe('✏️ changed');
    expect(bootstrap[2]).toMatch(/^re-runs .*`keepalived`/);
    expect(rows.map((r) => r[0])).not.toContain(`\`${B}\` (bootstrap)`);
  });

  it('warns that pushes re-run on the bootstrap node', () => {
    const md = renderPlanSummary({ stacks: [{ stack: 'hosts', plan: v2 }], cluster: model(V2) });
    const warnings = alertItems(md, 'WARNING');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^Re-runs pushes on the bootstrap node \`${A}\` \\(the first master\\): .*\`keepalived\``));
  });

  it('counts match terraform: every resource of c destroyed, of d created', () => {
    const md = renderPlanSummary({ stacks: [{ stack: 'hosts', plan: v2 }], cluster: model(V2) });
    const [stackRow] = tableRows(md, 'Resources per stack');
    expect(stackRow[0]).toBe('`hosts`');
    expect(Number(stackRow[1])).toBe(changes(D, 'create'));
    expect(Number(stackRow[4])).toBe(changes(C, 'delete'));
    expect(changes(C, 'delete')).toBe(changes(D, 'create'));
    const total = stackRow.slice(1, 6).reduce((sum, n) => sum + Number(n), 0);
    expect(total).toBe(v2.resource_changes!.length);
  });

  it('asks for the leaver to be retired when cluster.yaml forgot it', () => {
    const md = renderPlanSummary({ stacks: [{ stack: 'hosts', plan: v2 }], cluster: model(V2_UNRETIRED) });
    expect(alertItems(md, 'WARNING')).toContain(
      `\`${C}\` (\`10.254.1.3\`) leaves but is not listed under \`retired:\`; add it so its address and hostname are never given out again.`,
    );
  });
});
