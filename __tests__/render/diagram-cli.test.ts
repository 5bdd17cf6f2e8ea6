import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { diagramCommand } from '../../cli/diagram';
import { loadClusterFile } from '../../model/load';
import { renderTopologySvg } from '../../render/diagram';
import { EXAMPLE_FILE, generatedClusterYaml, wellFormednessProblems } from './diagram-fixtures';

interface Captured {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

function run(args: readonly string[]): Captured {
  const out: string[] = [];
  const err: string[] = [];
  const code = diagramCommand(args, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

describe('cias diagram', () => {
  let dir: string;
  const savedCluster = process.env.CIAS_CLUSTER;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cias-diagram-cli-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    if (savedCluster === undefined) delete process.env.CIAS_CLUSTER;
    else process.env.CIAS_CLUSTER = savedCluster;
  });

  const expected = renderTopologySvg(loadClusterFile(EXAMPLE_FILE).model);

  test('-o writes the SVG of the given file and exits 0', () => {
    const output = join(dir, 'cluster.svg');
    const result = run([EXAMPLE_FILE, '-o', output]);
    expect(result.code).toBe(0);
    expect(result.out).toEqual([]);
    expect(result.err).toEqual([`cias diagram: wrote ${output} (${Buffer.byteLength(expected)} bytes)`]);
    expect(readFileSync(output, 'utf8')).toBe(expected);
    expect(wellFormednessProblems(readFileSync(output, 'utf8'))).toEqual([]);

    const longForm = join(dir, 'long.svg');
    expect(run([`--output=${longForm}`, EXAMPLE_FILE]).code).toBe(0);
    expect(readFileSync(longForm, 'utf8')).toBe(expected);
  });

  test('without -o the SVG goes to stdout; the file defaults to $CIAS_CLUSTER', () => {
    process.env.CIAS_CLUSTER = EXAMPLE_FILE;
    const result = run([]);
    expect(result.code).toBe(0);
    expect(result.err).toEqual([]);
    expect(result.out).toEqual([expected.replace(/\n$/, '')]);
  });

  test('an invalid cluster file exits 1 with file:line:col problems and writes nothing', () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(EXAMPLE_FILE, 'utf8').replace('ip: 10.254.1.3', 'ip: 10.254.6.1'));
    const output = join(dir, 'broken.svg');
    const result = run([broken, '-o', output]);
    expect(result.code).toBe(1);
    expect(result.out).toEqual([]);
    expect(result.err.some((line) => line.startsWith(`${broken}:`) && line.includes('10.254.6.1'))).toBe(true);
    expect(result.err[result.err.length - 1]).toBe(`${broken}: 1 error; nothing was written`);
    expect(existsSync(output)).toBe(false);
  });

  test('a missing cluster file or an unwritable output exits 1', () => {
    const missing = run([join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.err.join('\n')).toContain('cannot read: ENOENT');
    const unwritable = run([EXAMPLE_FILE, '-o', join(dir, 'no-such-dir', 'x.svg')]);
    expect(unwritable.code).toBe(1);
    expect(unwritable.err).toEqual([`cias diagram: cannot write ${join(dir, 'no-such-dir', 'x.svg')}: ENOENT`]);
  });

  test.each([
    [['--width', '5'], 'unknown option --width'],
    [[EXAMPLE_FILE, 'other.yaml'], 'expected at most one cluster file, got 2'],
    [['-o'], 'option -o needs a path'],
    [['--output='], 'option --output needs a path'],
  ])('bad usage %j exits 2 with a message and the usage', (args, message) => {
    const result = run(args);
    expect(result.code).toBe(2);
    expect(result.out).toEqual([]);
    expect(result.err.join('\n')).toContain(`cias diagram: ${message}`);
    expect(result.err.join('\n')).toContain('Usage: cias diagram [file] [-o|--output path]');
  });

  test('--help prints the usage and exits 0', () => {
    const result = run(['--help']);
    expect(result.code).toBe(0);
    expect(result.out.join('\n')).toContain('Usage: cias diagram');
  });

  test('a full-capacity cluster.yaml (495 nodes, 124,245 VMs) loads and draws into a small, capped SVG', () => {
    const file = join(dir, 'full.yaml');
    writeFileSync(file, generatedClusterYaml({ racks: 45, nodesPerRack: 11, weakEvery: 7, indices: 251, vmsPerIndex: 495 }));
    const output = join(dir, 'full.svg');
    const result = run([file, '-o', output]);
    expect(result.err).toEqual([expect.stringMatching(/^cias diagram: wrote .*full\.svg \(\d+ bytes\)$/)]);
    expect(result.code).toBe(0);
    const svg = readFileSync(output, 'utf8');
    expect(Buffer.byteLength(svg)).toBeLessThan(300_000);
    expect(wellFormednessProblems(svg)).toEqual([]);
    expect(svg).toContain('495 nodes in 45 racks');
    expect(svg).toContain('124,245 tenant VMs on 251 VM-management IPs (capacity 124,245)');
    expect(svg).toContain('+37 more racks not drawn: 407 nodes');
    expect(svg).toContain('>+3 more: ');
    expect((svg.match(/>495\/495</g) ?? []).length).toBe(251);
  });
});
