/**
 * The failover drill on lab/cluster.lab.yaml, for real: the drill brings its own lab up (terraform over
 * SSH), writes ~270 MB of checksummed files into MooseFS, crashes the master, reads every byte back,
 * power-cycles the crashed node, switches back by hand, removes a node from the file and re-applies,
 * checks the converged plan, writes its report and tears the lab down. Timings are reported, never
 * asserted (targets: README, Benchmarks); a few minutes.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { labCommand } from '../../cli/lab';
import { labDown, labPaths } from '../../lab';
import { clusterTextWithoutNode } from '../../lab/drill-cluster';
import { parseManifest } from '../../lab/drill-data';
import { DrillReport, DrillStep, formatDrillReport, runDrill, writeDrillReport } from '../../lab/drill';
import { isAlive, readState } from '../../lab/state';

const CLUSTER = path.join(__dirname, '..', '..', 'lab', 'cluster.lab.yaml');
const [A, B, C] = ['pve-lab-a-1-1', 'pve-lab-b-1-2', 'pve-lab-c-1-3'];
const MIB = 1048576;

function labNamespaces(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name.startsWith('cias-lab-'));
}

describe('pure parts', () => {
  test('a node leaves the cluster file for the retired list', () => {
    const text = clusterTextWithoutNode(fs.readFileSync(CLUSTER, 'utf8'), { ip: '10.254.1.3', fqdn: 'pve.lab.c.1-3.lab.example.com' }, '2026-11-25');
    const document = yaml.load(text) as { nodes: { ip: string }[]; retired: unknown[] };
    expect(document.nodes.map((node) => node.ip)).toEqual(['10.254.1.1', '10.254.1.2']);
    expect(document.retired).toEqual([{ ip: '10.254.1.3', hostname: 'pve.lab.c.1-3.lab.example.com', retired_on: '2026-11-25' }]);
    expect(() => clusterTextWithoutNode(text, { ip: '10.254.1.1', fqdn: 'x' }, 'today')).toThrow(/bootstrap node/);
    expect(() => clusterTextWithoutNode(text, { ip: '10.254.1.9', fqdn: 'x' }, 'today')).toThrow(/no node at 10.254.1.9/);
  });

  test('manifest lines are checksum, size and path', () => {
    const sum = 'a'.repeat(64);
    expect(parseManifest(`${sum} 1024 small/file-1.bin\n`)).toEqual([{ sha256: sum, bytes: 1024, path: 'small/file-1.bin' }]);
    expect(() => parseManifest('nonsense\n')).toThrow(/not a manifest line/);
  });

  test('lab command: help, usage errors', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line) };
    expect(await labCommand(['--help'], io)).toBe(0);
    expect(out.join('\n')).toMatch(/lab up \[cluster\.yaml\]|up \[cluster\.yaml\]/);
    expect(out.join('\n')).toContain('drill [cluster.yaml] [--keep]');
    expect(await labCommand([], io)).toBe(2);
    expect(await labCommand(['reboot'], io)).toBe(2);
    expect(await labCommand(['drill', 'a.yaml', 'b.yaml'], io)).toBe(2);
    expect(await labCommand(['drill', '--fast'], io)).toBe(2);
    expect(await labCommand(['status', 'extra'], io)).toBe(2);
    expect(err.join('\n')).toContain('unknown lab command reboot');
  });
});

describe('the drill on lab/cluster.lab.yaml', () => {
  let report: DrillReport;
  let reportDir: string;
  const lines: string[] = [];
  const stepNamed = (prefix: string): DrillStep | undefined => report.steps.find((entry) => entry.step.startsWith(prefix));

  beforeAll(async () => {
    if (Object.values(readState(labPaths())?.nodes ?? {}).some((node) => isAlive(node.init))) {
      throw new Error('a lab is already up: the drill test brings up its own (run lab down first)');
    }
    reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cias-drill-report-'));
    report = await runDrill({ clusterFile: CLUSTER, log: (line) => lines.push(line) });
    writeDrillReport(report, reportDir);
  }, 900_000);

  afterAll(async () => {
    // The drill tears its lab down itself; this only matters when it crashed before its finally.
    if (readState(labPaths())) await labDown();
    if (reportDir) fs.rmSync(reportDir, { recursive: true, force: true });
  }, 120_000);

  test('the drill brought its own lab up from the file and took it down again', () => {
    expect(report.broughtLabUp).toBe(true);
    expect(stepNamed('lab up')?.ok).toBe(true);
    expect(stepNamed('lab down')?.ok).toBe(true);
    expect(readState(labPaths())).toBeUndefined();
    expect(labNamespaces()).toEqual([]);
  });

  test('the master crashed; the VIP, mfsmaster, the chunkservers and the mounts came back on the other master-capable node', () => {
    expect(report.failover?.crashedMaster).toBe(A);
    expect(report.failover?.newMaster).toBe(B);
    for (const seconds of [report.failover?.vipSeconds, report.failover?.mfsmasterSeconds, report.failover?.chunkserversSeconds, report.failover?.mountSeconds]) {
      expect(seconds).toEqual(expect.any(Number));
    }
    expect(report.failover?.chunkserversExpected).toBe(2);
    expect(report.failover?.failoverScriptExit).toBe(0);
    expect(stepNamed(`crash master ${A}`)?.ok).toBe(true);
    // Scenario 3 for the guests: the gateway comes to the new master, the tenant VM stays where it runs.
    expect(stepNamed('guests:')?.ok).toBe(true);
    expect(stepNamed(`crash master ${A}`)?.detail).toContain(`gateway VM 100 running on ${B}, VM 101 running on ${C}`);
    expect(report.weakNodeHeldVip).toBe(false);
  });

  test('every byte written before the crash reads back identical on the new master; new writes work', () => {
    expect(report.filesWritten).toBe(304);
    expect(report.bytesWritten).toBeGreaterThan(256 * MIB);
    const [afterCrash] = report.dataChecks;
    expect(afterCrash).toMatchObject({ node: B, filesChecked: 304, bytesChecked: report.bytesWritten, mismatched: [], missing: [] });
    expect(stepNamed('new write after failover')?.ok).toBe(true);
  });

  test('after the manual switch every file, including the one written after the failover, still reads back', () => {
    const afterSwitch = report.dataChecks[1];
    expect(afterSwitch).toMatchObject({ filesChecked: 305, mismatched: [], missing: [] });
    expect(afterSwitch.bytesChecked).toBe(report.bytesWritten + 16 * MIB);
  });

  test('the power-cycled node rejoins: keepalived backup, chunkserver and metalogger registered, mount back', () => {
    expect(stepNamed(`power-cycle ${A}`)?.ok).toBe(true);
  });

  test('the manual switch moves both VIPs and the only mfsmaster to the bootstrap node (the demoted master stops its own)', () => {
    expect(stepNamed(`manual switch to ${A}`)?.ok).toBe(true);
  });

  test('the manual switch moved both VIPs and the gateway VM to the bootstrap node', () => {
    const detail = stepNamed(`manual switch to ${A}`)?.detail;
    expect(detail).toMatch(new RegExp(`exit 0; VIP on ${A}, external IP on ${A}, mfsmaster on ${A}`));
    expect(detail).toContain(`gateway VM 100 running on ${A}`);
  });

  test('node leave: the VM migrates to the other non-master node, the master runs pvecm delnode, the node powers off', () => {
    expect(stepNamed(`node leave ${C}`)?.ok).toBe(true);
    expect(report.leaveCalls).toContainEqual(expect.objectContaining({ node: C, cmd: 'pvesh', argv: ['create', `/nodes/${C}/qemu/101/migrate`, '--target', B, '--online', '1'] }));
    expect(report.leaveCalls).toContainEqual(expect.objectContaining({ node: A, cmd: 'pvecm', argv: ['delnode', C] }));
  });

  test('re-applying the unchanged (new) file plans no change', () => {
    expect(stepNamed('re-apply unchanged')?.ok).toBe(true);
  });

  test('the report: steps, data, calls by command and the timing target, as Markdown and JSON', () => {
    const markdown = fs.readFileSync(path.join(reportDir, 'report.md'), 'utf8');
    expect(markdown).toBe(formatDrillReport(report));
    expect(markdown).toMatch(/^\| step \| seconds \| result \| detail \|$/m);
    expect(markdown).toMatch(new RegExp(`^\\| crash master ${A} \\| \\d+\\.\\d \\| ok \\|`, 'm'));
    expect(markdown).toMatch(/^\| read back on pve-lab-b-1-2: files \/ bytes \/ different \/ unreadable \| 304 \/ \d+ \/ 0 \/ 0 \|$/m);
    expect(markdown).toMatch(/^Target: VIP \+ mfsmaster \+ all chunkservers back within 10 s of the crash: \*\*(met|not met)\*\* \(\d+\.\d s\)$/m);
    expect(report.callsByCommand.pvecm).toBeGreaterThanOrEqual(3);
    expect(report.callsByCommand.systemctl).toBeGreaterThan(0);
    expect(JSON.parse(fs.readFileSync(path.join(reportDir, 'report.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    expect(lines.join('\n')).toContain('— crash master');
  });
});
