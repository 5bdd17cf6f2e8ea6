/**
 * One benchmark run in its own process: load a cluster file, build the stacks, synthesize, then time
 * JSON.stringify of the same output (the floor: no synthesizer can write the JSON faster than
 * serializing it). Prints one JSON line of figures.
 */
import { App } from 'cdktf';
import { readFileSync, readdirSync, statSync } from 'fs';
import { join } from 'path';
import { loadClusterFile } from '../model/load';
import { buildCias } from '../stacks/cias';

const [file, outdir] = process.argv.slice(2);
const started = process.hrtime.bigint();
const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;

const { model } = loadClusterFile(file);
const loaded = process.hrtime.bigint();
const app = new App({ outdir, skipValidation: true });
buildCias(app, model, { projectDir: outdir });
const built = process.hrtime.bigint();
app.synth();
const synthesized = process.hrtime.bigint();

const stackDir = join(outdir, 'stacks');
const stacks = readdirSync(stackDir);
const documents = stacks.map((stack) => JSON.parse(readFileSync(join(stackDir, stack, 'cdk.tf.json'), 'utf8')));
let bytes = 0;
const floorStart = process.hrtime.bigint();
for (const document of documents) bytes += JSON.stringify(document, null, 2).length;
const floor = seconds(floorStart);
let resources = 0;
for (const document of documents) for (const byName of Object.values(document.resource ?? {})) resources += Object.keys(byName as object).length;

console.log(
  JSON.stringify({
    loadSeconds: Number(loaded - started) / 1e9,
    buildSeconds: Number(built - loaded) / 1e9,
    synthSeconds: Number(synthesized - built) / 1e9,
    totalSeconds: Number(synthesized - started) / 1e9,
    floorSeconds: floor,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    stacks: stacks.length,
    resources,
    outputMb: stacks.reduce((sum, s) => sum + statSync(join(stackDir, s, 'cdk.tf.json')).size, 0) / 1e6,
    bytes,
  }),
);
