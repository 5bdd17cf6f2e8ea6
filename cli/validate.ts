import { TOTAL_VM_CAPACITY, VMS_PER_EXTERNAL_INDEX } from '../model/addressing';
import { ClusterModel } from '../model/cluster';
import { loadClusterFile } from '../model/load';
import { readFileSync } from 'fs';
import { ClusterConfigError, formatPath } from '../model/problems';
import { dangerousTransitions } from '../model/transitions';
import { YamlPositions } from '../model/yaml-positions';
import { EXIT_BAD_INPUT, EXIT_OK } from './exit-codes';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export function summarize(model: ClusterModel): string {
  const masters = model.nodes.filter((n) => n.canBeMaster).length;
  const slots = model.wan.vmMgmtIps.length * VMS_PER_EXTERNAL_INDEX;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return (
    `${plural(model.nodes.length, 'node')} (${masters} master-capable, bootstrap ${model.bootstrap.name}), ` +
    `${model.nas.length} NAS, ${plural(model.vms.length, 'VM')}; ` +
    `capacity left ${slots - model.vms.length} of ${slots} VM slots on ${plural(model.wan.vmMgmtIps.length, 'VM-management IP')} ` +
    `(${TOTAL_VM_CAPACITY - model.vms.length} with all 251)`
  );
}

/** Loads and reports; returns the model or the exit code for a bad file. */
export function loadOrReport(file: string, io: Output): ClusterModel | number {
  try {
    const { model, warnings } = loadClusterFile(file);
    for (const warning of warnings) io.err(warning);
    return model;
  } catch (error) {
    if (!(error instanceof ClusterConfigError)) throw error;
    for (const warning of error.warnings) io.err(warning);
    for (const message of error.messages) io.err(message);
    io.err(`${file}: ${error.messages.length} error${error.messages.length === 1 ? '' : 's'}; nothing was written`);
    return EXIT_BAD_INPUT;
  }
}

export function validateCommand(file: string, io: Output, againstFile?: string): number {
  const loaded = loadOrReport(file, io);
  if (typeof loaded === 'number') return loaded;
  if (againstFile !== undefined) {
    const previous = loadOrReport(againstFile, io);
    if (typeof previous === 'number') {
      io.err(`${againstFile}: cannot compare against an invalid file`);
      return previous;
    }
    const transitions = dangerousTransitions(previous, loaded);
    const positions = { old: new YamlPositions(readFileSync(againstFile, 'utf8')), new: new YamlPositions(readFileSync(file, 'utf8')) };
    for (const t of transitions) {
      const at = positions[t.file].find(t.path);
      const name = t.file === 'old' ? againstFile : file;
      io.err(`${name}${at ? `:${at.line}:${at.column}` : ''} warning: ${formatPath(t.path)}: ${t.message}`);
    }
    io.out(`OK ${file}: ${summarize(loaded)}; ${transitions.length} dangerous change${transitions.length === 1 ? '' : 's'} against ${againstFile}`);
    return EXIT_OK;
  }
  io.out(`OK ${file}: ${summarize(loaded)}`);
  return EXIT_OK;
}
