/**
 * render/scripts/index.ts: what every node gets, read from the .sh files beside it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CIAS_LIB_DIR, CIAS_SBIN_DIR, nodeScript, nodeScripts } from '../../render/scripts';

const REPO = resolve(__dirname, '../..');
const SCRIPTS_DIR = join(REPO, 'render', 'scripts');

/** The node scripts docs/ARCHITECTURE.md lists, with their install paths. */
const ARCHITECTURE_PATHS = [
  '/usr/local/lib/cias/common.sh',
  '/usr/local/sbin/keepalived_to_master.sh',
  '/usr/local/sbin/keepalived_to_backup.sh',
  '/usr/local/sbin/dlll_cias-switch_to_master.sh',
  '/usr/local/sbin/cias-node-leave',
  '/usr/local/sbin/cias-delete-node',
  '/usr/local/sbin/cias-bootstrap-cluster',
  '/usr/local/sbin/cias-join-cluster',
  '/usr/local/sbin/cias-prepare-disks',
  '/usr/local/sbin/cias-uplink-watchdog',
  '/usr/local/sbin/cias-export-vmids',
  '/usr/local/sbin/cias-liveness',
  '/usr/local/sbin/cias-gateway-backup-copy',
];

const commands = nodeScripts.filter((s) => s.mode === '0755');
const libraries = nodeScripts.filter((s) => s.mode === '0644');

describe('nodeScripts', () => {
  it('has every script of the architecture, plus the PVE helper library, at its install path', () => {
    const paths = nodeScripts.map((s) => s.installPath);
    expect(paths).toEqual(expect.arrayContaining(ARCHITECTURE_PATHS));
    expect(paths).toContain('/usr/local/lib/cias/pve.sh');
    expect(new Set(paths).size).toBe(paths.length);
    expect(nodeScripts).toHaveLength(ARCHITECTURE_PATHS.length + 1);
    // The architecture documents every installed file.
    const architecture = readFileSync(join(REPO, 'docs', 'ARCHITECTURE.md'), 'utf8');
    for (const path of paths) expect(architecture).toContain(`\`${path}`);
  });

  it('installs libraries 0644 under the lib dir and commands 0755 under sbin', () => {
    expect(libraries.map((s) => s.name).sort()).toEqual(['common.sh', 'pve.sh']);
    for (const lib of libraries) expect(lib.installPath).toBe(`${CIAS_LIB_DIR}/${lib.name}`);
    for (const command of commands) expect(command.installPath).toBe(`${CIAS_SBIN_DIR}/${command.name}`);
  });

  it('carries each source file byte for byte', () => {
    for (const script of nodeScripts) {
      expect(script.content).toBe(readFileSync(join(SCRIPTS_DIR, script.sourceFile), 'utf8'));
      expect(script.content.endsWith('\n')).toBe(true);
    }
  });

  it('finds a script by its installed name', () => {
    expect(nodeScript('cias-liveness').sourceFile).toBe('cias-liveness.sh');
    expect(nodeScript('keepalived_to_master.sh').installPath).toBe('/usr/local/sbin/keepalived_to_master.sh');
    expect(() => nodeScript('cias-liveness.sh')).toThrow('no node script named cias-liveness.sh');
  });

  it.each(commands.map((c) => [c.name, c]))('%s: bash, strict mode, documented exit codes, sources the library', (_name, script) => {
    const lines = script.content.split('\n');
    expect(lines[0]).toBe('#!/usr/bin/env bash');
    expect(script.content).toMatch(/^set -euo pipefail$/m);
    expect(script.content).toMatch(/^# Exit codes: /m);
    expect(script.content).toContain('source "$CIAS_LIB"');
    expect(script.content).not.toContain('mfsmetarestore -a');
  });

  it.each(libraries.map((l) => [l.name, l]))('%s is a bash library (no shebang, never exits on load)', (_name, lib) => {
    expect(lib.content.split('\n')[0]).toBe('# shellcheck shell=bash');
    expect(lib.content).not.toMatch(/^exit /m);
  });

  it.each(commands.map((c) => [c.name, c]))('%s --help prints its documentation and needs no configuration', (name, script) => {
    const result = spawnSync('bash', [join(SCRIPTS_DIR, script.sourceFile), '--help'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', CIAS_LIB: join(SCRIPTS_DIR, 'common.sh'), CIAS_CONF: '/nonexistent/cias.conf', CIAS_LOG_FILE: '/dev/null' },
    });
    expect(result.status).toBe(0);
    const firstLine = result.stdout.split('\n')[0];
    expect(firstLine.startsWith(`${name.replace(/\.sh$/, '')}`)).toBe(true);
    expect(result.stdout).toContain('Exit codes:');
    expect(result.stdout).not.toContain('shellcheck');
  });
});
