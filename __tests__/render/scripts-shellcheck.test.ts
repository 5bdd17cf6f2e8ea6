/**
 * shellcheck (bash dialect, following `source` directives) on every node script, every Proxmox shim
 * and every test double: one test per file, and one proving shellcheck fails on a known-bad snippet
 * (so a broken shellcheck cannot pass everything).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { nodeScripts } from '../../render/scripts';

const REPO = resolve(__dirname, '../..');
const DIRECTORIES = ['render/scripts', 'lab/shims', '__tests__/scripts/fakes'];

function shellFiles(): string[] {
  const files: string[] = [];
  for (const directory of DIRECTORIES) {
    for (const name of readdirSync(join(REPO, directory)).sort()) {
      const file = join(REPO, directory, name);
      if (!statSync(file).isFile() || /\.(ts|md)$/.test(name)) continue;
      files.push(file);
    }
  }
  return files;
}

function shellcheck(file: string): { status: number; output: string } {
  const result = spawnSync('shellcheck', ['-x', '-s', 'bash', '-S', 'style', file], { encoding: 'utf8', cwd: '/' });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, output: result.stdout + result.stderr };
}

const files = shellFiles();

it('covers every node script, every Proxmox shim and the test doubles', () => {
  const names = files.map((f) => relative(REPO, f));
  const expected = [
    ...nodeScripts.map((s) => `render/scripts/${s.sourceFile}`),
    ...['pvecm', 'pvesm', 'pvesh', 'qm', 'qmrestore', 'vzdump', 'ha-manager', 'shim-lib.sh', 'cias-shim-admin'].map((n) => `lab/shims/${n}`),
    ...['record.sh', 'systemctl', 'shutdown', 'mfsmaster', 'ssh', 'logger', 'sendmail'].map((n) => `__tests__/scripts/fakes/${n}`),
  ];
  expect([...names].sort()).toEqual([...expected].sort());
});

describe.each(files.map((f) => [relative(REPO, f), f]))('shellcheck %s', (_name, file) => {
  it('reports nothing', () => {
    const result = shellcheck(file);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });
});

it('fails on a known-bad snippet', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cias-shellcheck-'));
  try {
    const bad = join(dir, 'bad.sh');
    // Unquoted expansion in rm (SC2086) and a useless cat into read in a pipeline subshell (SC2162).
    writeFileSync(bad, '#!/usr/bin/env bash\ntarget=$1\nrm -rf $target/*\ncat /etc/hostname | read name\n');
    const result = shellcheck(bad);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('SC2086');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
