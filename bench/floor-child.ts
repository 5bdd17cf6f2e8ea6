/**
 * The floor, in a process of its own: parse every stack file of a synthesized cluster, then time one
 * plain `JSON.stringify(document, null, 2)` of all of them (what any synthesizer must at least do to
 * write the same text). One pass, in a fresh process, as synthesis itself runs: a second pass in the
 * same process reuses memory the first one touched, and no synthesis gets that. run.ts takes the
 * median over several processes. Prints seconds.
 */
import { readFileSync, readdirSync } from 'fs';
import { join } from 'path';

const stackDir = process.argv[2];
const documents = readdirSync(stackDir).map((stack) => JSON.parse(readFileSync(join(stackDir, stack, 'cdk.tf.json'), 'utf8')));
const started = process.hrtime.bigint();
let characters = 0;
for (const document of documents) characters += JSON.stringify(document, null, 2).length;
const floorSeconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ floorSeconds, characters }));
