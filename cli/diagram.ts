/**
 * `cias diagram [file] [-o|--output path]`: the cluster's topology as one standalone SVG
 * (render/diagram.ts), on stdout or into a file. Exit codes: 0 ok, 1 bad cluster file or unwritable
 * output, 2 bad usage.
 */
import { writeFileSync } from 'fs';
import { renderTopologySvg } from '../render/diagram';
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE } from './exit-codes';
import { Output, loadOrReport } from './validate';

export const DIAGRAM_USAGE = `Usage: cias diagram [file] [-o|--output path]

Draws the cluster's topology (racks and nodes, master VIPs, gateway and its WAN addresses, NAS,
VMs per VM-management IP) as a standalone SVG. file defaults to $CIAS_CLUSTER or ./cluster.yaml;
without -o the SVG goes to stdout.`;

interface DiagramArgs {
  readonly file: string;
  readonly output?: string;
}

/** The parsed arguments, 'help', or a usage error message. */
function parseDiagramArgs(args: readonly string[]): DiagramArgs | 'help' | { readonly error: string } {
  const files: string[] = [];
  let output: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '-o' || arg === '--output') {
      const value = args[++i];
      if (value === undefined || value === '') return { error: `option ${arg} needs a path` };
      output = value;
    } else if (arg.startsWith('--output=')) {
      output = arg.slice('--output='.length);
      if (output === '') return { error: 'option --output needs a path' };
    } else if (arg.startsWith('-') && arg !== '-') {
      return { error: `unknown option ${arg}` };
    } else files.push(arg);
  }
  if (files.length > 1) return { error: `expected at most one cluster file, got ${files.length}: ${files.join(' ')}` };
  return { file: files[0] ?? (process.env.CIAS_CLUSTER || 'cluster.yaml'), output };
}

export function diagramCommand(args: readonly string[], io: Output): number {
  const parsed = parseDiagramArgs(args);
  if (parsed === 'help') {
    io.out(DIAGRAM_USAGE);
    return EXIT_OK;
  }
  if ('error' in parsed) {
    io.err(`cias diagram: ${parsed.error}\n\n${DIAGRAM_USAGE}`);
    return EXIT_USAGE;
  }
  const model = loadOrReport(parsed.file, io);
  if (typeof model === 'number') return model;
  const svg = renderTopologySvg(model);
  if (parsed.output === undefined) {
    io.out(svg.replace(/\n$/, ''));
    return EXIT_OK;
  }
  try {
    writeFileSync(parsed.output, svg);
  } catch (error) {
    io.err(`cias diagram: cannot write ${parsed.output}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return EXIT_BAD_INPUT;
  }
  io.err(`cias diagram: wrote ${parsed.output} (${Buffer.byteLength(svg)} bytes)`);
  return EXIT_OK;
}
