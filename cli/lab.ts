/**
 * `cias lab up|status|down|drill`: rehearse a cluster.yaml on this machine (lab/README.md).
 * Exit codes: 0 ok, 1 failure (the lab did not come up, the check or the drill failed), 2 usage.
 */
import * as path from 'path';
import { DEFAULT_DRILL_CLUSTER, drillLabOptions, formatDrillReport, runDrill, writeDrillReport } from '../lab/drill';
import { formatCheckReport, formatLabStatus, labDown, labPaths, labStatus, labUp } from '../lab';
import { isAlive, readState } from '../lab/state';
import { EXIT_OK, EXIT_USAGE } from './exit-codes';

export const EXIT_LAB_FAILED = 1;

export const LAB_USAGE = `Usage: cias lab <command> [options]   (as root)

Commands:
  up [cluster.yaml]        Build the lab for the file (default: lab/cluster.lab.yaml), deploy its hosts stack
                           with terraform over SSH, and print the end-of-up check.
  status                   Nodes (power, VIP, daemons) of the running lab.
  drill [cluster.yaml] [--keep] [--report-dir dir]
                           Failover drill: data into MooseFS, crash the master, time the failover, read every
                           byte back, manual switch, node leave, converged plan. Brings a lab up from the file
                           when none runs and tears it down at the end unless --keep. Report: lab-report/.
  down                     Remove everything the lab created (idempotent).

Exit codes: 0 ok, 1 failure, 2 bad usage.`;

export interface LabIo {
  out(line: string): void;
  err(line: string): void;
}

class LabUsageError extends Error {}

function parse(args: readonly string[], flags: readonly string[], valued: readonly string[]): { positionals: string[]; options: Map<string, string | true> } {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (flags.includes(name) && inline === undefined) options.set(name, true);
    else if (valued.includes(name)) {
      const value = inline ?? args[++index];
      if (value === undefined) throw new LabUsageError(`option --${name} needs a value`);
      options.set(name, value);
    } else throw new LabUsageError(`unknown option ${arg}`);
  }
  return { positionals, options };
}

function atMostOneFile(positionals: readonly string[], command: string): string {
  if (positionals.length > 1) throw new LabUsageError(`lab ${command} takes one cluster file`);
  return path.resolve(positionals[0] ?? DEFAULT_DRILL_CLUSTER);
}

export async function labCommand(args: readonly string[], io: LabIo): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help' || rest.includes('--help')) {
      if (command === undefined) {
        io.err(LAB_USAGE);
        return EXIT_USAGE;
      }
      io.out(LAB_USAGE);
      return EXIT_OK;
    }
    const log = (line: string) => io.err(line);
    switch (command) {
      case 'up': {
        const file = atMostOneFile(parse(rest, [], []).positionals, 'up');
        const { check } = await labUp({ ...(await drillLabOptions(file)), log });
        if (check) io.out(formatCheckReport(check));
        io.out(`lab up: ${file}`);
        return check && !check.ok ? EXIT_LAB_FAILED : EXIT_OK;
      }
      case 'status': {
        if (parse(rest, [], []).positionals.length > 0) throw new LabUsageError('lab status takes no arguments');
        io.out(formatLabStatus(labStatus()));
        return EXIT_OK;
      }
      case 'down': {
        if (parse(rest, [], []).positionals.length > 0) throw new LabUsageError('lab down takes no arguments');
        const report = await labDown();
        io.out(`lab down: ${report.removedNamespaces.length} namespaces, ${report.killedPids.length} processes, ${report.detachedDisks.length} disks removed`);
        return EXIT_OK;
      }
      case 'drill': {
        const parsed = parse(rest, ['keep'], ['report-dir']);
        const file = atMostOneFile(parsed.positionals, 'drill');
        const keep = parsed.options.has('keep');
        const labWasUp = Object.values(readState(labPaths())?.nodes ?? {}).some((node) => isAlive(node.init));
        // Interrupted: a lab this drill brought up still goes (the drill's own cleanup never runs then).
        const interrupted = (signal: NodeJS.Signals) => {
          io.err(`cias lab drill: ${signal}${labWasUp || keep ? '' : ', taking the lab down'}`);
          void (labWasUp || keep ? Promise.resolve() : labDown().then(() => undefined)).finally(() => process.exit(EXIT_LAB_FAILED));
        };
        process.once('SIGINT', interrupted);
        process.once('SIGTERM', interrupted);
        let report;
        try {
          report = await runDrill({ clusterFile: file, keep, log });
        } finally {
          process.removeListener('SIGINT', interrupted);
          process.removeListener('SIGTERM', interrupted);
        }
        const written = writeDrillReport(report, (parsed.options.get('report-dir') as string | undefined) ?? 'lab-report');
        io.out(formatDrillReport(report));
        io.out(`report: ${written.markdown}, ${written.json}`);
        return report.ok ? EXIT_OK : EXIT_LAB_FAILED;
      }
      default:
        throw new LabUsageError(`unknown lab command ${command}`);
    }
  } catch (error) {
    if (error instanceof LabUsageError) {
      io.err(`cias lab: ${error.message}`);
      io.err(LAB_USAGE);
      return EXIT_USAGE;
    }
    io.err(`cias lab ${command}: ${(error as Error).message}`);
    return EXIT_LAB_FAILED;
  }
}
