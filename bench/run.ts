/**
 * `npm run bench`: synthesizes generated clusters of three sizes and prints wall time, peak RSS and
 * the ratio to the JSON.stringify floor, plus `terraform validate` time for a terraform_data hosts
 * stack. Figures, not pass/fail: targets are in the README. Each cluster is synthesized three times
 * in fresh processes; the median run is shown (this machine's timings vary by a quarter run to run).
 *
 * Two ratios: the whole run (load and validate cluster.yaml, build, synthesize) and the synthesis
 * alone (build and synthesize, from a loaded model). The floor is one plain JSON.stringify pass over
 * the same documents in a fresh process (synthesis is one pass in a fresh process too), the median
 * of five such processes.
 */
import { execFileSync, spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { generateClusterYaml, GeneratedClusterSpec, MAX_NODE_ADDRESSES, SPEC_MAX_NODES } from './generate';

const sizes: readonly (GeneratedClusterSpec & { label: string; totalNodes?: number })[] = [
  { label: '3 nodes / 10 VMs', nodes: 3, vms: 10 },
  { label: '100 nodes / 10,000 VMs', nodes: 100, vms: 10000 },
  { label: `full capacity: ${MAX_NODE_ADDRESSES} nodes / 124,245 VMs`, nodes: MAX_NODE_ADDRESSES, vms: 124245 },
  // The spec's 1,270 nodes do not fit the address plan: the nodes past 495 are added to the model.
  { label: `spec's node count: 1,270 nodes* / 124,245 VMs`, nodes: MAX_NODE_ADDRESSES, vms: 124245, totalNodes: SPEC_MAX_NODES },
];
const only = process.argv.slice(2);

interface Figures {
  totalSeconds: number;
  loadSeconds: number;
  buildSeconds: number;
  synthSeconds: number;
  floorSeconds: number;
  maxRssMb: number;
  stacks: number;
  resources: number;
  outputMb: number;
}

function runScript(script: string, args: readonly string[]): { figures: Record<string, number>; wallSeconds: number } {
  const start = process.hrtime.bigint();
  const result = spawnSync(
    process.execPath,
    ['--max-old-space-size=1800', '-r', join(__dirname, '..', 'scripts', 'register-ts.js'), join(__dirname, script), ...args],
    { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, CHECKPOINT_DISABLE: '1' } },
  );
  const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${script} failed:\n${result.stderr}`);
  return { figures: JSON.parse(result.stdout.trim().split('\n').pop()!), wallSeconds };
}

/** Fresh processes the floor is measured in; the median is taken. */
const FLOOR_PROCESSES = 5;

/** Synthesis runs per cluster; the figures of the median run (by load + build + synth) are shown. */
const SYNTH_RUNS = 3;

function runChild(file: string, outdir: string, totalNodes?: number): Figures & { wallSeconds: number } {
  const args = totalNodes === undefined ? [file, outdir] : [file, outdir, String(totalNodes)];
  const runs = Array.from({ length: SYNTH_RUNS }, () => runScript('synth-child.ts', args));
  runs.sort((a, b) => a.figures.totalSeconds - b.figures.totalSeconds);
  const { figures, wallSeconds } = runs[Math.floor(SYNTH_RUNS / 2)];
  const floors = Array.from({ length: FLOOR_PROCESSES }, () => runScript('floor-child.ts', [join(outdir, 'stacks')]).figures.floorSeconds);
  const floorSeconds = floors.sort((a, b) => a - b)[Math.floor(FLOOR_PROCESSES / 2)];
  return { ...(figures as unknown as Figures), floorSeconds, wallSeconds };
}

function validateSeconds(dir: string): number | string {
  const env = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_CLI_CONFIG_FILE: '/dev/null' };
  try {
    execFileSync('terraform', ['init', '-input=false', '-no-color', '-backend=false'], { cwd: dir, env, stdio: 'ignore' });
    const start = process.hrtime.bigint();
    execFileSync('terraform', ['validate', '-no-color'], { cwd: dir, env, stdio: 'ignore' });
    return Number(process.hrtime.bigint() - start) / 1e9;
  } catch {
    return 'n/a';
  }
}

const rows: string[][] = [];
for (const size of sizes) {
  if (only.length > 0 && !only.some((o) => size.label.includes(o))) continue;
  const dir = mkdtempSync(join(tmpdir(), 'cias-bench-'));
  try {
    const file = join(dir, 'cluster.yaml');
    writeFileSync(file, generateClusterYaml({ ...size, resourceType: 'terraform_data' }));
    const figures = runChild(file, join(dir, 'out'), size.totalNodes);
    const validate = validateSeconds(join(dir, 'out', 'stacks', 'hosts'));
    rows.push([
      size.label,
      figures.wallSeconds.toFixed(1),
      figures.loadSeconds.toFixed(2),
      figures.buildSeconds.toFixed(2),
      figures.synthSeconds.toFixed(2),
      figures.maxRssMb.toFixed(0),
      figures.floorSeconds.toFixed(3),
      (figures.totalSeconds / figures.floorSeconds).toFixed(1),
      ((figures.buildSeconds + figures.synthSeconds) / figures.floorSeconds).toFixed(1),
      String(figures.stacks),
      String(figures.resources),
      figures.outputMb.toFixed(1),
      typeof validate === 'number' ? validate.toFixed(2) : validate,
    ]);
    console.error(`done: ${size.label}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const header = ['cluster', 'wall s', 'load s', 'build s', 'synth s', 'peak RSS MB', 'floor s', '× floor (run)', '× floor (synthesis)', 'stacks', 'resources', 'JSON MB', 'validate hosts s'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of rows) console.log(line(row));
if (rows.some((row) => row[0].includes('*'))) {
  console.log(`\n* ${SPEC_MAX_NODES - MAX_NODE_ADDRESSES} of them on addresses past the plan (10.254.{1..5}.{100..254}), added to the loaded model: no cluster.yaml can list them.`);
}
