/** Synthesizes the guest stacks (gateway, vms-e<E>) of a model, for the construct and schema tests. */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'cdktf';
import { ClusterModel } from '../../model/cluster';
import { GuestStacks, GuestStacksOptions, addGuestStacks } from '../../stacks/guests';
import { StackJson } from '../helpers/synth';

export interface GuestSynth {
  readonly stacks: Map<string, StackJson>;
  readonly guests: GuestStacks;
  /** The manifest's stack → dependency names. */
  readonly dependencies: Map<string, string[]>;
}

/**
 * Synthesizes with cdktf's own validation on; the output directory is removed afterwards. `prepare`
 * may add stacks first and return options that refer to them.
 */
export function synthGuests(
  model: ClusterModel,
  options: GuestStacksOptions = {},
  prepare?: (app: App) => GuestStacksOptions,
): GuestSynth {
  const outdir = mkdtempSync(join(tmpdir(), 'cias-guests-'));
  try {
    const app = new App({ outdir });
    const guests = addGuestStacks(app, model, { ...options, ...prepare?.(app) });
    app.synth();
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
      stacks: Record<string, { synthesizedStackPath: string; dependencies: string[] }>;
    };
    const stacks = new Map<string, StackJson>();
    const dependencies = new Map<string, string[]>();
    for (const [name, stack] of Object.entries(manifest.stacks)) {
      stacks.set(name, JSON.parse(readFileSync(join(outdir, stack.synthesizedStackPath), 'utf8')));
      dependencies.set(name, stack.dependencies);
    }
    return { stacks, guests, dependencies };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** A resource body by type and logical ID; fails when it is missing. */
export function resource(stack: StackJson | undefined, type: string, name: string): Record<string, any> {
  const body = stack?.resource?.[type]?.[name];
  if (!body) throw new Error(`no ${type}.${name} in ${Object.keys(stack?.resource?.[type] ?? {}).join(', ')}`);
  return body as Record<string, any>;
}

/** The one resource of a type whose logical ID starts with a prefix (cdktf appends a hash). */
export function resourceStartingWith(stack: StackJson | undefined, type: string, prefix: string): [string, Record<string, any>] {
  const matches = Object.entries(stack?.resource?.[type] ?? {}).filter(([name]) => name.startsWith(prefix));
  if (matches.length !== 1) throw new Error(`expected one ${type} starting with ${prefix}, found ${matches.length}`);
  return matches[0] as [string, Record<string, any>];
}

/** The text a push uploads and runs, as it arrives on the host (Terraform's `$${`/`%%{` escapes undone). */
export function pushedBundle(push: Record<string, any>): string {
  const upload = (push.provisioner as Record<string, any>[])
    .map((p) => p.file)
    .find((file) => file && String(file.destination).startsWith('/tmp/cias-'));
  if (!upload) throw new Error('push uploads no bundle');
  return String(upload.content).replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
}
