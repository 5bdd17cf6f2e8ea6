/**
 * A four-node fake cluster for the failover, delete-node and liveness tests:
 *   pve1 10.254.1.1  8 GiB   the master (bootstraps the cluster)
 *   pve2 10.254.1.2  8 GiB   takes over in the failover tests
 *   pve3 10.254.1.3 16 GiB   runs VM 103 (12000 MB), so it has 3360 MB free
 *   pve4 10.254.1.4  8 GiB   idle: 7168 MB free
 * Every machine has a base load of 1 GiB.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScriptWorld, TestNode } from './harness';

export const PVE1: TestNode = { name: 'pve1', ip: '10.254.1.1', canBeMaster: true };
export const PVE2: TestNode = { name: 'pve2', ip: '10.254.1.2', canBeMaster: true };
export const PVE3: TestNode = { name: 'pve3', ip: '10.254.1.3', canBeMaster: true };
export const PVE4: TestNode = { name: 'pve4', ip: '10.254.1.4', canBeMaster: true };

export function buildCluster(world: ScriptWorld, options: { notifyEmail?: string } = {}): void {
  const overrides = options.notifyEmail === undefined ? {} : { notifyEmail: options.notifyEmail };
  world.addNode(PVE1, overrides, { maxmemMb: 8192, basememMb: 1024 });
  world.addNode(PVE2, overrides, { maxmemMb: 8192, basememMb: 1024 });
  world.addNode(PVE3, overrides, { maxmemMb: 16384, basememMb: 1024 });
  world.addNode(PVE4, overrides, { maxmemMb: 8192, basememMb: 1024 });
  const bootstrap = world.run(PVE1.name, 'cias-bootstrap-cluster.sh');
  if (bootstrap.status !== 0) throw new Error(`bootstrap failed: ${bootstrap.stderr}`);
  const fingerprint = world.admin('fingerprint', PVE1.name).trim();
  for (const node of [PVE2, PVE3, PVE4]) {
    world.pveOk(node.name, ['pvecm', 'add', PVE1.ip, '--fingerprint', fingerprint, '--link0', node.ip], 'root-password\n');
  }
}

/** Stand-in MooseFS configs of one node: master and metalogger with separate DATA_PATHs. */
export function writeMfsConfigs(world: ScriptWorld, node: string): { masterDir: string; metaloggerDir: string } {
  const dir = world.nodeDir(node);
  const masterDir = join(dir, 'mfs-master');
  const metaloggerDir = join(dir, 'mfs-metalogger');
  mkdirSync(masterDir, { recursive: true });
  mkdirSync(metaloggerDir, { recursive: true });
  writeFileSync(join(dir, 'mfsmaster.cfg'), `DATA_PATH = ${masterDir}\n`);
  writeFileSync(join(dir, 'mfsmetalogger.cfg'), `DATA_PATH = ${metaloggerDir}\nMASTER_HOST = cias-pve-master\n`);
  writeFileSync(join(metaloggerDir, 'metadata_ml.mfs.back'), 'metadata from the metalogger\n');
  writeFileSync(join(metaloggerDir, 'changelog_ml.0.mfs'), '1: 1795579239|ACCESS(1)\n');
  writeFileSync(join(metaloggerDir, 'changelog_ml_back.0.mfs'), '');
  return { masterDir, metaloggerDir };
}

export function vmConfig(fields: Record<string, string | number>): string {
  return `${Object.entries(fields)
    .map(([key, value]) => `${key}: ${value}`)
    .join('\n')}\n`;
}
