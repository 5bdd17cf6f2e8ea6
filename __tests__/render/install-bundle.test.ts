import { execFileSync, spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { createHash } from 'crypto';
import { escapeTerraformTemplate, renderEscapedInstallBundle, renderInstallBundle } from '../../render/install-bundle';

const tricky = [
  'line with ${VAR} and $(cmd) and `backticks`',
  "single ' quote and \"double\"",
  'CIAS_EOF_deadbeef0000',
  'tab\there',
  '',
].join('\n');

describe('install bundle', () => {
  let root: string;
  let script: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cias-bundle-'));
    script = join(root, 'bundle.sh');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const run = (text: string, ...args: string[]) => {
    writeFileSync(script, text);
    return spawnSync('bash', [script, ...args], { env: { ...process.env, CIAS_ROOT: join(root, 'fs') }, encoding: 'utf8' });
  };

  it('the escaped form is the escaped text, hashed as the text (line by line, without a copy of the whole)', () => {
    const params = {
      name: 'node/test',
      files: [
        { path: '/etc/cias/a.conf', content: tricky },
        { path: '/etc/cias/b.conf', content: 'no final newline ${x} %{y}' },
        { path: '/etc/cias/c.conf', content: '' },
        { path: '/etc/cias/d.conf', content: `${'r'.repeat(70_000)}\n😀 ${'$'}{z}\n`.repeat(3) },
      ],
      afterChange: ['echo "${changed}"'],
      always: ['echo %{always}'],
    };
    const text = renderInstallBundle(params);
    expect(renderEscapedInstallBundle(params)).toEqual({
      escapedText: escapeTerraformTemplate(text),
      sha256: createHash('sha256').update(text).digest('hex'),
    });
  });

  it('passes shellcheck', () => {
    const text = renderInstallBundle({
      name: 'node/test',
      files: [{ path: '/etc/cias/a.conf', content: tricky }],
      afterChange: ['echo changed'],
      always: ['echo always'],
    });
    writeFileSync(script, text);
    expect(spawnSync('shellcheck', ['-s', 'bash', script], { encoding: 'utf8' }).stdout).toBe('');
  });

  it('installs files byte for byte with their modes, keeps .prev, and runs afterChange only on change', () => {
    const first = renderInstallBundle({
      name: 'n/x',
      files: [
        { path: '/etc/cias/a.conf', content: tricky },
        { path: '/usr/local/sbin/tool', content: '#!/bin/sh\necho hi\n', mode: '0755' },
      ],
      afterChange: ['echo AFTER-CHANGE'],
      always: ['echo ALWAYS'],
    });
    const r1 = run(first);
    expect(r1.status).toBe(0);
    expect(r1.stdout).toContain('AFTER-CHANGE');
    expect(readFileSync(join(root, 'fs/etc/cias/a.conf'), 'utf8')).toBe(tricky);
    expect(statSync(join(root, 'fs/usr/local/sbin/tool')).mode & 0o777).toBe(0o755);
    expect(existsSync(join(root, 'fs/etc/cias/a.conf.prev'))).toBe(false);

    const r2 = run(first);
    expect(r2.status).toBe(0);
    expect(r2.stdout).not.toContain('AFTER-CHANGE');
    expect(r2.stdout).toContain('ALWAYS');
    expect(run(first, '--force').stdout).toContain('AFTER-CHANGE');

    const second = renderInstallBundle({ name: 'n/x', files: [{ path: '/etc/cias/a.conf', content: 'new\n' }], afterChange: ['echo AFTER-CHANGE'] });
    const r3 = run(second);
    expect(r3.stdout).toContain('AFTER-CHANGE');
    expect(readFileSync(join(root, 'fs/etc/cias/a.conf'), 'utf8')).toBe('new\n');
    expect(readFileSync(join(root, 'fs/etc/cias/a.conf.prev'), 'utf8')).toBe(tricky);
    expect(execFileSync('ls', ['-a', join(root, 'fs/etc/cias')], { encoding: 'utf8' })).not.toMatch(/cias-new/);
  });

  it('stops at the first failing follow-up command', () => {
    const r = run(renderInstallBundle({ name: 'n/f', files: [{ path: '/etc/x', content: 'x' }], afterChange: ['false', 'echo NEVER'] }));
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain('NEVER');
  });

  it('refuses unsafe paths, duplicates and bad modes, listing every problem', () => {
    expect(() =>
      renderInstallBundle({
        name: 'n/bad',
        files: [
          { path: 'relative', content: '' },
          { path: '/etc/a b', content: '' },
          { path: '/etc/x', content: '', mode: '777' },
          { path: '/etc/x', content: '' },
        ],
      }),
    ).toThrow(/unsafe path "relative".*unsafe path "\/etc\/a b".*bad mode 777.*\/etc\/x appears twice/);
  });

  it('escapes Terraform template sequences', () => {
    expect(escapeTerraformTemplate('a ${b} %{c} $d %e')).toBe('a $${b} %%{c} $d %e');
  });
});
