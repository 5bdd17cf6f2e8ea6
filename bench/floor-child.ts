/**
 * The floor, in a process of its own: parse every stack file of a synthesized cluster and time plain
 * `JSON.stringify(document, null, 2)` of all of them (what any synthesizer must at least do to write
 * the same text). Median of five rounds, so one garbage collection does not move it. Prints seconds.
 */
import { readFileSync, readdirSync } from 'fs';
import { join } from 'path';

const stackDir = process.argv[2];
const documents = readdirSync(stackDir).map((stack) => JSON.parse(readFileSync(join(stackDir, stack, 'cdk.tf.json'), 'utf8')));
const rounds: number[] = [];
for (let round = 0; round < 5; round++) {
  const started = process.hrtime.bigint();
  for (const document of documents) JSON.stringify(document, null, 2);
  rounds.push(Number(process.hrtime.bigint() - started) / 1e9);
}
console.log(JSON.stringify({ floorSeconds: rounds.sort((a, b) => a - b)[2] }));
