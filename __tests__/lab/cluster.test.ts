/** From cluster.yaml to the lab: the layout taken from the model, and the lab's copy of the file. */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { LabClusterError, labClusterText, labLayoutFromModel } from '../../lab/cluster';
import { planTopology } from '../../lab/topology';
import { loadClusterFile, loadClusterText } from '../../model/load';

const CLUSTER = path.join(__dirname, '..', '..', 'lab', 'cluster.lab.yaml');
const text = fs.readFileSync(CLUSTER, 'utf8');

test('nodes, interfaces, disks and WAN addresses come from the model', () => {
  const layout = labLayoutFromModel(loadClusterFile(CLUSTER).model);
  expect(layout.nodes).toEqual([
    { name: 'pve-lab-a-1-1', fqdn: 'pve.lab.a.1-1.lab.example.com', ip: '10.254.1.1', canBeMaster: true, lanInterface: 'vmbr0', wanInterface: 'vmbr0', disks: ['sdb'] },
    { name: 'pve-lab-b-1-2', fqdn: 'pve.lab.b.1-2.lab.example.com', ip: '10.254.1.2', canBeMaster: true, lanInterface: 'vmbr0', wanInterface: 'vmbr0', disks: ['sdb'] },
    { name: 'pve-lab-c-1-3', fqdn: 'pve.lab.c.1-3.lab.example.com', ip: '10.254.1.3', canBeMaster: false, lanInterface: 'vmbr0', wanInterface: 'vmbr0', disks: ['sdb'] },
  ]);
  expect(layout.network).toEqual({
    wan: { network: '192.168.56.0', prefix: 24, gateway: '192.168.56.1', masterIp: '192.168.56.101' },
    vip: '10.254.0.254',
  });
  expect(planTopology({ ...layout.network, nodes: layout.nodes }).sharedSegment).toBe(true);
});

test('a cluster the lab cannot reach is refused with every reason', () => {
  const unreachable = text
    .replace('    ip: 10.254.1.2\n', '    ip: 10.254.1.2\n    ssh: { host: 203.0.113.7, port: 2222 }\n')
    .concat('\nprovisioning:\n  bastion: { host: 203.0.113.1 }\n');
  expect(() => labLayoutFromModel(loadClusterText(unreachable).model)).toThrow(LabClusterError);
  try {
    labLayoutFromModel(loadClusterText(unreachable).model);
  } catch (error) {
    expect((error as LabClusterError).problems).toEqual([
      'node pve-lab-b-1-2: ssh.host 203.0.113.7 is not its internal address (the lab reaches nodes only there)',
      "node pve-lab-b-1-2: the lab's sshd takes root on port 22",
      'provisioning.bastion: the lab has no jump host (the root namespace reaches the nodes directly)',
    ]);
  }
});

test('the lab copy differs only in probe target, provisioning and state, and is a valid cluster.yaml', () => {
  const layout = labLayoutFromModel(loadClusterFile(CLUSTER).model);
  const topology = planTopology({ ...layout.network, nodes: layout.nodes });
  const copy = labClusterText(text.concat('\nprovisioning:\n  bastion: { host: 203.0.113.1 }\n'), {
    topology,
    sshKeyFile: '/var/lib/cias-lab/ssh/id_ed25519',
    stateDirectory: '.',
  });
  const original = yaml.load(text, { schema: yaml.CORE_SCHEMA }) as Record<string, unknown>;
  const changed = yaml.load(copy, { schema: yaml.CORE_SCHEMA }) as Record<string, unknown>;
  expect(changed).toEqual({
    ...original,
    watchdog: { probe_target: '198.51.100.1' },
    provisioning: { resource_type: 'terraform_data', ssh_key_file: '/var/lib/cias-lab/ssh/id_ed25519' },
    state: { backend: 'local', directory: '.' },
  });
  const model = loadClusterText(copy).model;
  expect(model.watchdog.probeTarget).toBe('198.51.100.1');
  expect(model.provisioning.resourceType).toBe('terraform_data');
});
