import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const ROOT = join(__dirname, '..', '..');
const REGISTER = join(ROOT, 'scripts', 'register-ts.js');

/** The esbuild loader the cdktf app, the `cias` command and the bench run under (not ts-jest). */
describe('scripts/register-ts.js', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cias-register-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (source: string) => {
    writeFileSync(join(dir, 'lazy.ts'), 'export const answer: number = 42;\n');
    writeFileSync(join(dir, 'entry.ts'), source);
    return execFileSync(process.execPath, ['-r', REGISTER, join(dir, 'entry.ts')], { encoding: 'utf8' }).trim();
  };

  it('turns `await import()` of an extensionless .ts module into require, as tsc does (the lab uses it)', () => {
    expect(run("(async () => { const { answer } = await import('./lazy'); console.log(answer); })();\n")).toBe('42');
  });

  it('gives class fields the ES2022 define semantics of tsconfig (a declared field is reset after super())', () => {
    const source = `
      class Base { constructor() { this.init(); } init(): void {} }
      class Child extends Base { value?: string; init(): void { this.value = 'set in super'; } }
      console.log(String(new Child().value));
    `;
    expect(run(source)).toBe('undefined');
  });

  it('runs the cias command', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'bin', 'cias.js'), 'addr', '10501'], { encoding: 'utf8' });
    expect(out).toContain('10.10.5.1');
  });
});
