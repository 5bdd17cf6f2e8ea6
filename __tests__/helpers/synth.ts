import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'cdktf';
import { ClusterModel } from '../../model/cluster';
import { buildCias } from '../../stacks/cias';

export { EXAMPLE_PATH, edit, exampleText, modelOf } from './cluster-text';

export type StackJson = {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  variable?: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
};

/** Synthesizes every stack of a model into a fresh directory; returns stack name → parsed JSON. */
export function synthAll(model: ClusterModel): { outdir: string; stacks: Map<string, StackJson> } {
  const outdir = mkdtempSync(join(tmpdir(), 'cias-synth-'));
  const app = new App({ outdir, skipValidation: true });
  buildCias(app, model);
  app.synth();
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
    stacks: Record<string, { synthesizedStackPath: string }>;
  };
  const stacks = new Map<string, StackJson>();
  for (const [name, stack] of Object.entries(manifest.stacks)) {
    stacks.set(name, JSON.parse(readFileSync(join(outdir, stack.synthesizedStackPath), 'utf8')));
  }
  return { outdir, stacks };
}

/** `type.name` → resource body, across all resource types of a stack. */
export function resourcesOf(stack: StackJson): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const [type, byName] of Object.entries(stack.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) out.set(`${type}.${name}`, body);
  }
  return out;
}

/** Resource addresses whose body differs between two synth results (added, removed, changed). */
export function diffResources(before: StackJson, after: StackJson): { added: string[]; removed: string[]; changed: string[] } {
  const a = resourcesOf(before);
  const b = resourcesOf(after);
  const strip = (body: Record<string, unknown>) => JSON.stringify({ ...body, '//': undefined });
  return {
    added: [...b.keys()].filter((k) => !a.has(k)).sort(),
    removed: [...a.keys()].filter((k) => !b.has(k)).sort(),
    changed: [...b.keys()].filter((k) => a.has(k) && strip(a.get(k)!) !== strip(b.get(k)!)).sort(),
  };
}

export function terraform(dir: string, ...args: string[]): string {
  const cliConfig = join(dir, '.terraformrc');
  writeFileSync(cliConfig, '');
  return execFileSync('terraform', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_CLI_CONFIG_FILE: cliConfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
