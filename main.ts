/**
 * cdktf app: reads the cluster file named by CIAS_CLUSTER (default ./cluster.yaml), validates it, and
 * synthesizes the hosts stack, the gateway stack and one stack per VM-management IP index. An invalid
 * file stops here with every problem listed and exit code 1, before anything is written.
 */
import { App } from 'cdktf';
import { defaultClusterFile } from './cli/main';
import { loadOrReport } from './cli/validate';
import { buildCias } from './stacks/cias';

const file = defaultClusterFile();
const loaded = loadOrReport(file, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
if (typeof loaded === 'number') process.exit(loaded);

const app = new App();
buildCias(app, loaded);
app.synth();
