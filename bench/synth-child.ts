/**
 * One benchmark run in its own process: load a cluster file, build the stacks, synthesize. Prints one
 * JSON line of figures (the floor is timed by floor-child.ts, in a fresh process). A third argument
 * adds nodes past the address plan up to that total (see withNodesPastThePlan).
 */
import { App } from 'cdktf';
import { readFileSync, readdirSync, statSync } from 'fs';
import { join } from 'path';
import { loadClusterFile } from '../model/load';
import { buildCias } from '../stacks/cias';
import { withNodesPastThePlan } from './generate';

const [file, outdir, totalNodes] = process.argv.slice(2);
const started = process.hrtime.bigint();

const loadedModel = loadClusterFile(file).model;
const model = totalNodes === undefined ? loadedModel : withNodesPastThePlan(loadedModel, Number(totalNodes));
const loaded = process.hrtime.bigint();
const app = new App({ outdir, skipValidation: true });
buildCias(app, model, { projectDir: outdir });
const built = process.hrtime.bigint();
app.synth();
const synthesized = process.hrtime.bigint();

const stackDir = join(outdir, 'stacks');
const stacks = readdirSync(stackDir);
let resources = 0;
for (const stack of stacks) {
  const document = JSON.parse(readFileSync(join(stackDir, stack, 'cdk.tf.json'), 'utf8'));
  for (const byName of Object.values(document.resource ?? {})) resources += Object.keys(byName as object).length;
}

console.log(
  JSON.stringify({
    loadSeconds: Number(loaded - started) / 1e9,
    buildSeconds: Number(built - loaded) / 1e9,
    synthSeconds: Number(synthesized - built) / 1e9,
    totalSeconds: Number(synthesized - started) / 1e9,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    stacks: stacks.length,
    resources,
    outputMb: stacks.reduce((sum, s) => sum + statSync(join(stackDir, s, 'cdk.tf.json')).size, 0) / 1e6,
  }),
);
