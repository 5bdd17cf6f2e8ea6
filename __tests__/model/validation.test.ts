import { readFileSync } from 'fs';
import { join } from 'path';
import { loadClusterText } from '../../model/load';
import { ClusterConfigError } from '../../model/problems';

const example = readFileSync(join(__dirname, '../../cluster.yaml'), 'utf8');

/** Replaces one exact snippet of the example; fails loudly if the snippet is not there. */
function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`snippet not in example: ${from}`);
  return text.replace(from, to);
}

function problemsOf(text: string): { errors: readonly string[]; warnings: readonly string[] } {
  try {
    const { warnings } = loadClusterText(text, 'cluster.yaml');
    return { errors: [], warnings };
  } catch (error) {
    if (error instanceof ClusterConfigError) return { errors: error.messages, warnings: error.warnings };
    throw error;
  }
}

describe('the example cluster.yaml', () => {
  it('is valid, with no warnings', () => {
    expect(problemsOf(example)).toEqual({ errors: [], warnings: [] });
  });

  it('applies the SPEC defaults', () => {
    const { model } = loadClusterText(example);
    expect(model.name).toBe('DLLL-CIAS');
    expect(model.nodes.map((n) => [n.name, n.priority, n.canBeMaster])).toEqual([
      ['pve-master-rack-a-1-1', 100, true],
      ['pve-master-rack-b-1-2', 80, true],
      ['pve-master-rack-c-1-3', 50, false],
    ]);
    expect(model.bootstrap.fqdn).toBe('pve.master-rack.a.1-1.example.com');
    expect(model.gateway).toMatchObject({ vmid: 100, memoryMb: 2048, diskGb: 4, node: 'pve-master-rack-a-1-1', lanIp: '10.0.0.254' });
    expect(model.nas[0]).toMatchObject({ fqdn: 'nas.storage-rack.a.1-1.example.com', exportPath: '/export/nas.storage-rack.a.1-1.example.com' });
    expect(model.schedules).toMatchObject({ gatewayBackupCopy: '0 4 * * 1', uplinkWatchdog: '*/3 * * * *', liveness: '*/5 * * * *' });
    expect(model.watchdog).toEqual({ probeTarget: '8.8.8.8', shutdownDelayMinutes: 15 });
    expect(model.liveness.deadAfterMinutes).toBe(30);
    expect(model.proxmox.apiUrl).toBe('https://192.168.56.101:8006/api2/json');
    expect(model.nodes[1].disks).toEqual([{ device: 'sdb', filesystem: 'xfs', force: false, mountPoint: '/data/sdb' }]);
    expect(model.nodes[0].ssh).toEqual({ host: '10.254.1.1', port: 22, user: 'root' });
  });

  it('resolves VMs given by vmid or by slot, with MAC, IP, external IP and overrides', () => {
    const { model } = loadClusterText(example);
    const mail = model.vms.find((vm) => vm.name === 'mail')!;
    expect(mail).toMatchObject({
      vmid: 10501,
      ip: '10.10.5.1',
      externalIp: '192.168.56.114',
      ports: { first: 50100, last: 50199 },
      mac: '02:C1:A5:00:29:05',
      node: 'pve-master-rack-b-1-2',
      template: 'debian-12-cloudinit',
    });
    expect(mail.portOverrides).toEqual([
      { externalPort: 50125, internalPort: 25, protocol: 'tcp' },
      { externalPort: 50187, internalPort: 587, protocol: 'tcp' },
    ]);
    expect(model.vms.map((vm) => vm.vmid)).toEqual([101, 102, 10501]);
  });
});

describe('broken files: every problem, with file:line:col, path, value and rule', () => {
  it('points at an IP outside the node range (the example in the issue)', () => {
    const text = edit(example, 'ip: 10.254.1.3', 'ip: 10.254.6.1');
    const { errors } = problemsOf(text);
    const line = text.split('\n').findIndex((l) => l.includes('10.254.6.1')) + 1;
    expect(errors).toEqual([`cluster.yaml:${line}:9 nodes[2].ip: 10.254.6.1 is outside 10.254.{1..5}.{1..99}`]);
  });

  it('reports a typo as an unknown key with a suggestion, at the key', () => {
    const text = edit(example, 'priority: 80', 'prioity: 80');
    const line = text.split('\n').findIndex((l) => l.includes('prioity')) + 1;
    expect(problemsOf(text).errors).toEqual([
      expect.stringMatching(new RegExp(`^cluster\\.yaml:${line}:5 nodes\\[1\\]\\.prioity: is not a known key; did you mean priority\\?`)),
    ]);
  });

  it('collects many problems at once', () => {
    let text = edit(example, 'priority: 100', 'priority: 150');
    text = edit(text, 'meets_minimum: false', 'meets_minimum: "no"');
    text = edit(text, '{ device: sdb, filesystem: ext4 }', '{ device: /dev/sdb, filesystem: ext3 }');
    text = edit(text, 'probe_target: 8.8.8.8', 'probe_target: 8.8.8.8\n  shutdown_delay_minutes: 0');
    const { errors } = problemsOf(text);
    expect(errors).toHaveLength(5);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/nodes\[0\]\.priority: 150 is above the maximum 100$/),
        expect.stringMatching(/nodes\[2\]\.meets_minimum: no is not true or false$/),
        expect.stringMatching(/nodes\[2\]\.disks\[0\]\.device: \/dev\/sdb is not a whole-disk device name/),
        expect.stringMatching(/nodes\[2\]\.disks\[0\]\.filesystem: ext3 is not one of xfs, ext4$/),
        expect.stringMatching(/watchdog\.shutdown_delay_minutes: 0 is below the minimum 1$/),
      ]),
    );
    for (const message of errors) expect(message).toMatch(/^cluster\.yaml:\d+:\d+ /);
  });

  it('reports YAML syntax errors with their position', () => {
    const text = edit(example, '  domain: example.com', '  domain: [example.com');
    expect(problemsOf(text).errors).toEqual([expect.stringMatching(/^cluster\.yaml:\d+:\d+ YAML syntax: /)]);
  });

  it('refuses a document that is not a mapping', () => {
    expect(problemsOf('- just\n- a list\n').errors).toEqual([expect.stringMatching(/must be a mapping/)]);
  });

  it('reports missing required fields', () => {
    const text = edit(example, '  domain: example.com\n', '');
    expect(problemsOf(text).errors).toEqual([expect.stringMatching(/cluster\.domain: is required \(expected a string\)$/)]);
  });

  it.each<[string, string, string, RegExp]>([
    ['duplicate node IPs', 'ip: 10.254.1.2', 'ip: 10.254.1.1', /nodes\[1\]\.ip: 10\.254\.1\.1 duplicates the ip of nodes\[0\]\.ip$/],
    ['duplicate VMIDs', 'vmid: 102', 'vmid: 101', /vms\[1\]: 101 duplicates the vmid of vms\[0\]$/],
    ['duplicate VM names', 'name: db', 'name: web', /vms\[1\]\.name: web duplicates the name of vms\[0\]\.name$/],
    ['a duplicate MAC', 'memory_mb: 4096', 'memory_mb: 4096\n    mac: "02:c1:a5:00:00:65"', /vms\[1\]\.mac: 02:C1:A5:00:00:65 duplicates the MAC of vms\[0\]$/],
    ['the gateway MAC on a VM', 'memory_mb: 4096', 'memory_mb: 4096\n    mac: "02:C1:A5:00:00:64"', /duplicates the MAC of gateway$/],
    ['duplicate external ports', '{ external: 50187, internal: 587, protocol: tcp }', '{ external: 50125, internal: 587 }', /vms\[2\]\.ports\[1\]\.external: 50125 duplicates the external port and protocol of vms\[2\]\.ports\[0\]\.external$/],
    ['an override outside the VM range', '{ external: 50187,', '{ external: 50287,', /vms\[2\]\.ports\[1\]\.external: 50287 is outside this VM's external ports 50100\.\.50199$/],
    ['a master external IP outside the WAN subnet', 'master_ip: 192.168.56.101', 'master_ip: 192.168.57.101', /wan\.master_ip: 192\.168\.57\.101 is outside the WAN subnet 192\.168\.56\.0\/24/],
    ['a management IP outside the WAN subnet', 'nas_mgmt_ip: 192.168.56.103', 'nas_mgmt_ip: 10.1.1.1', /wan\.nas_mgmt_ip: 10\.1\.1\.1 is outside the WAN subnet/],
    ['the broadcast address', 'proxmox_mgmt_ip: 192.168.56.102', 'proxmox_mgmt_ip: 192.168.56.255', /wan\.proxmox_mgmt_ip: 192\.168\.56\.255 is the network or broadcast address/],
    ['two WAN roles on one address', 'nas_mgmt_ip: 192.168.56.103', 'nas_mgmt_ip: 192.168.56.102', /wan\.nas_mgmt_ip: 192\.168\.56\.102 duplicates the address of wan\.proxmox_mgmt_ip$/],
    ['a holey netmask', 'netmask: 255.255.255.0', 'netmask: 255.0.255.0', /wan\.netmask: 255\.0\.255\.0 is not a contiguous netmask/],
    ['a VM on an unknown node', 'node: 10.254.1.2', 'node: 10.254.1.9', /vms\[1\]\.node: 10\.254\.1\.9 is not the name or ip of any node/],
    ['a bootstrap node that does not exist', 'bootstrap_node: 10.254.1.1', 'bootstrap_node: 10.254.1.7', /bootstrap_node: 10\.254\.1\.7 is not the ip of any node/],
    ['a bootstrap node that cannot be master', 'bootstrap_node: 10.254.1.1', 'bootstrap_node: 10.254.1.3', /bootstrap_node: 10\.254\.1\.3 names a node that can never be master/],
    ['the gateway VMID not 100', 'template: zentyal-template', 'template: zentyal-template\n  vmid: 101', /gateway\.vmid: 101 must be 100/],
    ['a tenant VM with VMID 100', 'vmid: 102', 'vmid: 100', /vms\[1\]\.vmid: 100 is the gateway's VMID/],
    ['VMID x00', 'vmid: 102', 'vmid: 1200', /vms\[1\]\.vmid: 1200 is not a tenant VMID/],
    ['a > 5', 'vmid: 102', 'vmid: 601', /vms\[1\]\.vmid: 601 is not a tenant VMID/],
    ['E > 250', 'vmid: 102', 'vmid: 251101', /vms\[1\]\.vmid: 251101 is not a tenant VMID/],
    ['a slot out of range', 'slot: { e: 10, a: 5, b: 1 }', 'slot: { e: 10, a: 6, b: 1 }', /vms\[2\]\.slot\.a: 6 is above the maximum 5$/],
    ['vmid and slot that disagree', 'slot: { e: 10, a: 5, b: 1 }', 'vmid: 10502\n    slot: { e: 10, a: 5, b: 1 }', /vms\[2\]\.slot: .* disagrees with vmid 10502/],
    ['a VM with neither vmid nor slot', 'slot: { e: 10, a: 5, b: 1 }', 'description: no address', /vms\[2\]: needs a vmid or a slot/],
    ['fewer VM-management IPs than VMs need', '    - { index: 10, ip: 192.168.56.114 }\n', '', /vms\[2\]: needs VM-management IP index 10 \(VMID 10501\), which wan\.vm_mgmt_ips does not define$/],
    ['a duplicate VM-management index', '{ index: 10, ip: 192.168.56.114 }', '{ index: 0, ip: 192.168.56.114 }', /wan\.vm_mgmt_ips\[1\]\.index: 0 duplicates the index of wan\.vm_mgmt_ips\[0\]\.index$/],
    ['reuse of a retired IP', 'retired: []', 'retired:\n  - { ip: 10.254.1.2, hostname: pve.old.a.1-2.example.com }', /nodes\[1\]\.ip: 10\.254\.1\.2 belongs to a retired host/],
    ['reuse of a retired hostname', 'retired: []', 'retired:\n  - { ip: 10.254.1.9, hostname: PVE.master-rack.b.1-2.example.com }', /nodes\[1\]: has hostname pve\.master-rack\.b\.1-2\.example\.com, which belongs to a retired host/],
    ['a NAS outside its range', 'ip: 10.253.1.1', 'ip: 10.254.1.8', /nas\[0\]\.ip: 10\.254\.1\.8 is outside 10\.253\.\{1\.\.5\}\.\{1\.\.99\}$/],
    ['a disk listed twice', '- { device: sdc, filesystem: xfs }', '- { device: sdb, filesystem: xfs }', /nodes\[0\]\.disks\[1\]\.device: sdb duplicates the device of nodes\[0\]\.disks\[0\]\.device$/],
    ['a bad cron schedule', 'probe_target: 8.8.8.8', 'probe_target: 8.8.8.8\nschedules:\n  liveness: "every 5 min"', /schedules\.liveness: "every 5 min" is not a 5-field cron schedule/],
    ['an unknown provisioning resource type', 'resource_type: null_resource', 'resource_type: local_exec', /provisioning\.resource_type: local_exec is not one of null_resource, terraform_data$/],
  ])('rejects %s', (_what, from, to, expected) => {
    const { errors } = problemsOf(edit(example, from, to));
    expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
    for (const message of errors) expect(message).toMatch(/^cluster\.yaml:\d+:\d+ \S/);
  });

  it('warns about VM-management IPs that no VM needs', () => {
    const text = edit(example, '    - { index: 10, ip: 192.168.56.114 }\n', '    - { index: 10, ip: 192.168.56.114 }\n    - { index: 11, ip: 192.168.56.115 }\n');
    const { errors, warnings } = problemsOf(text);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/^cluster\.yaml:\d+:7 warning: wan\.vm_mgmt_ips\[2\]: 192\.168\.56\.115 serves no VM yet \(index 11\)/)]);
  });

  it('keeps dates as written (retired_on: 2026-11-25 is a string)', () => {
    const text = edit(example, 'retired: []', 'retired:\n  - { ip: 10.254.1.9, hostname: pve.old.a.1-9.example.com, retired_on: 2026-11-25 }');
    expect(loadClusterText(text).model.retired).toEqual([{ ip: '10.254.1.9', hostname: 'pve.old.a.1-9.example.com', retiredOn: '2026-11-25' }]);
  });

  it('treats priority 0 as never master, like the seed', () => {
    const text = edit(example, 'priority: 80', 'priority: 0');
    const { model } = loadClusterText(text);
    expect(model.nodes[1].canBeMaster).toBe(false);
  });

  it('refuses a cluster where no node can be master', () => {
    let text = edit(example, 'priority: 100', 'priority: 0');
    text = edit(text, 'priority: 80', 'priority: 0');
    expect(problemsOf(text).errors).toEqual(
      expect.arrayContaining([expect.stringMatching(/nodes: has no node that can be master/)]),
    );
  });
});
