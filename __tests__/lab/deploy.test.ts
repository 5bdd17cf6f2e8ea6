/**
 * `lab up` of a cluster.yaml for real: the hosts stack is synthesized with terraform_data resources and
 * terraform applies it over SSH into the nodes (cias scripts, cias.conf, keepalived, disks, MooseFS,
 * cron, the PVE cluster through the Proxmox shims); the end-of-up check passes, and re-applying the
 * unchanged file plans no change.
 */
import * as path from 'path';
import { formatCheckReport, Lab, LabCheckReport, labDown, labPaths, labUp, readShimCalls } from '../../lab';
import { hostsStackIsConverged, labOptionsForClusterFile } from '../../lab/hosts-deploy';

jest.setTimeout(120_000);

const CLUSTER = path.join(__dirname, '..', '..', 'lab', 'cluster.lab.yaml');
const [A, B, C] = ['pve-lab-a-1-1', 'pve-lab-b-1-2', 'pve-lab-c-1-3'];
let lab: Lab;
let check: LabCheckReport | undefined;
let ours = false;

beforeAll(async () => {
  const options = await labOptionsForClusterFile(CLUSTER);
  ({ lab, check } = await labUp(options));
  ours = true;
}, 180_000);

afterAll(async () => {
  if (ours) await labDown();
}, 60_000);

test('the check at the end of lab up passes, with the bootstrap node as master', () => {
  expect(check).toBeDefined();
  expect(formatCheckReport(check as LabCheckReport)).not.toContain('FAIL');
  expect(check?.master).toBe(A);
});

test('terraform installed each node as cluster.yaml says, with the lab\'s uplink probe', () => {
  const conf = (node: string) => lab.readFile(node, '/etc/cias/cias.conf') ?? '';
  expect(conf(A)).toContain("CIAS_CAN_BE_MASTER='1'");
  expect(conf(C)).toContain("CIAS_CAN_BE_MASTER='0'");
  for (const node of [A, B, C]) expect(conf(node)).toContain("CIAS_UPLINK_PROBE='198.51.100.1'");
  expect(lab.readFile(C, '/etc/keepalived/keepalived.conf')).not.toMatch(/^\s*vrrp_instance\b/m);
  expect(lab.readFile(A, '/etc/keepalived/keepalived.conf')).toMatch(/^\s*vrrp_instance\b/m);
  expect(lab.ssh(A, 'findmnt -n -o FSTYPE /data/sdb').stdout).toBe('xfs\n');
  expect(lab.ssh(B, 'findmnt -n -o FSTYPE /data/sdb').stdout).toBe('ext4\n');
  // The watchdog's probe target answers from inside the lab.
  expect(lab.ssh(C, 'ping -c 1 -W 2 198.51.100.1 >/dev/null && echo up').stdout).toBe('up\n');
});

test('the recorded Proxmox calls: the bootstrap node creates the cluster, the others join through it', () => {
  const pvecm = readShimCalls(labPaths()).filter((call) => call.cmd === 'pvecm');
  expect(pvecm).toContainEqual(expect.objectContaining({ node: A, argv: ['create', 'CIAS-LAB', '--link0', '10.254.1.1'] }));
  for (const [node, ip] of [[B, '10.254.1.2'], [C, '10.254.1.3']]) {
    const join = pvecm.find((call) => call.node === node && call.argv[0] === 'add');
    expect(join?.argv).toEqual(['add', '10.254.1.1', '--fingerprint', expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/), '--link0', ip]);
  }
  expect(lab.ssh(B, 'pvecm status | grep Quorate').stdout).toMatch(/Quorate:\s+Yes/);
});

test('re-applying the unchanged cluster.yaml plans no change', async () => {
  expect(await hostsStackIsConverged(lab, CLUSTER)).toBe(true);
});
