/**
 * `cias` command line. Exit codes: 0 ok, 1 bad input, 2 bad usage.
 */
import { existsSync } from 'fs';
import { loadClusterFile } from '../model/load';
import { addrCommand } from './addr';
import { diagramCommand } from './diagram';
import { labCommand } from './lab';
import { planSummaryCommand } from './plan-summary';
import { EXIT_OK, EXIT_USAGE, UsageError } from './exit-codes';
import { Output, validateCommand } from './validate';

export const USAGE = `Usage: cias <command> [options]

Commands:
  validate [file] [--against old.yaml]
                           Check a cluster.yaml (default: $CIAS_CLUSTER or ./cluster.yaml); print OK and a summary.
                           With --against, also warn about dangerous changes since the old version.
  addr <vmid|ip> [--file f] Print a tenant VM's VMID, internal IP, VM-management index, external IP and ports as JSON.
  diagram [file] [-o|--output path]
                           Draw the topology as a standalone SVG (default: stdout).
  plan-summary [--cluster f] <stack>=<plan.json>...|<dir>
                           Markdown summary of terraform show -json plans, for a PR comment.
  lab up [file] | status | drill [file] [--keep] | down
                           Rehearse a cluster on this machine (root): namespaces, real daemons, terraform.
  help                     This text.

Exit codes: 0 ok, 1 bad input, 2 bad usage.`;

const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export function defaultClusterFile(): string {
  return process.env.CIAS_CLUSTER || 'cluster.yaml';
}

interface ParsedArgs {
  readonly positionals: string[];
  readonly options: Map<string, string | true>;
}

/** `--name value`, `--name=value` and bare `--flag` for the names in `valued`/`flags`. */
export function parseArgs(args: readonly string[], valued: readonly string[], flags: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.replace(/^-+/, '').split(/=(.*)/s, 2);
    if (flags.includes(name)) options.set(name, true);
    else if (valued.includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`option --${name} needs a value`);
      options.set(name, value);
    } else throw new UsageError(`unknown option ${arg}`);
  }
  return { positionals, options };
}

function expectPositionals(parsed: ParsedArgs, min: number, max: number, what: string): void {
  if (parsed.positionals.length < min || parsed.positionals.length > max) throw new UsageError(`expected ${what}`);
}

function vmManagementIps(file: string | undefined): ReadonlyMap<number, string> | undefined {
  const candidate = file ?? defaultClusterFile();
  if (!existsSync(candidate)) return undefined;
  try {
    return new Map(loadClusterFile(candidate).model.wan.vmMgmtIps.map((e) => [e.index, e.ip]));
  } catch {
    consoleOutput.err(`cias addr: ${candidate} does not validate; external IP left out (run cias validate)`);
    return undefined;
  }
}

export async function main(argv: readonly string[], io: Output = consoleOutput): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? EXIT_USAGE : EXIT_OK;
      case 'validate': {
        if (rest.includes('--help')) return help(io);
        const parsed = parseArgs(rest, ['against']);
        expectPositionals(parsed, 0, 1, 'at most one file: cias validate [file] [--against old.yaml]');
        const against = parsed.options.get('against');
        return validateCommand(parsed.positionals[0] ?? defaultClusterFile(), io, typeof against === 'string' ? against : undefined);
      }
      case 'addr': {
        if (rest.includes('--help')) return help(io);
        const parsed = parseArgs(rest, ['file']);
        expectPositionals(parsed, 1, 1, 'one VMID or IP: cias addr <vmid|ip>');
        const file = parsed.options.get('file');
        return addrCommand(parsed.positionals[0], vmManagementIps(typeof file === 'string' ? file : undefined), io);
      }
      case 'diagram':
        return diagramCommand(rest, io);
      case 'plan-summary':
        return planSummaryCommand(rest, io);
      case 'lab':
        return labCommand(rest, io);
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`cias: ${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
}

function help(io: Output): number {
  io.out(USAGE);
  return EXIT_OK;
}
