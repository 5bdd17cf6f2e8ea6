import { main } from '../../cli/main';
import { dangerousTransitions } from '../../model/transitions';
import { edit, exampleText, modelOf } from '../helpers/cluster-text';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const example = exampleText();
const nodeC = example.slice(example.indexOf('  - rack: master-rack\n    position: c'), example.indexOf('\nretired:'));
const messages = (text: string, from = example) => dangerousTransitions(modelOf(from), modelOf(text)).map((t) => `${t.file} ${t.path.join('.')}: ${t.message}`);

describe('dangerous transitions (cias validate --against)', () => {
  it('finds nothing between identical files', () => {
    expect(messages(example)).toEqual([]);
  });

  it('warns when a node leaves without being retired, and when the bootstrap node moves', () => {
    const text = edit(edit(example, nodeC, ''), 'bootstrap_node: 10.254.1.1', 'bootstrap_node: 10.254.1.2');
    expect(messages(text)).toEqual([
      expect.stringMatching(/^new bootstrap_node: moves the bootstrap role pve-master-rack-a-1-1 → pve-master-rack-b-1-2/),
      expect.stringMatching(/^old nodes\.2: removes node pve-master-rack-c-1-3: scenario 5 runs/),
      expect.stringMatching(/^old nodes\.2: 10\.254\.1\.3 .* is not listed under retired/),
      'new gateway.node: moves the gateway VM (VMID 100) pve-master-rack-a-1-1 → pve-master-rack-b-1-2',
    ]);
    const retiredToo = edit(edit(example, nodeC, ''), 'retired: []', 'retired:\n  - { ip: 10.254.1.3, hostname: pve.master-rack.c.1-3.example.com }');
    expect(messages(retiredToo)).toEqual([expect.stringMatching(/removes node pve-master-rack-c-1-3/)]);
  });

  it("warns when an existing VM's VMID (and so its IP) changes, or a VM is removed", () => {
    expect(messages(edit(example, 'vmid: 102', 'vmid: 103'))).toEqual([
      expect.stringMatching(/^new vms\.1: changes VM db's VMID 102 → 103: its IP \(10\.0\.1\.2 → 10\.0\.1\.3\)/),
    ]);
    const withoutDb = example.replace(/  - vmid: 102\n[\s\S]*?size_gb: 40 }\n/, '');
    expect(messages(withoutDb)).toEqual([expect.stringMatching(/^old vms\.1: removes VM 102 \(db, 10\.0\.1\.2\): its disks are destroyed/)]);
  });

  it('warns about forgetting a retired address, dropping a chunk disk, and reformatting', () => {
    const retired = edit(example, 'retired: []', 'retired:\n  - { ip: 10.254.1.9, hostname: pve.old.a.1-9.example.com }');
    expect(messages(example, retired)).toEqual([expect.stringMatching(/forgets retired address 10\.254\.1\.9/)]);
    const noSdc = edit(example, '      - { device: sdc, filesystem: xfs }\n', '');
    expect(messages(noSdc)).toEqual([expect.stringMatching(/drops chunk disk sdc from pve-master-rack-a-1-1/)]);
    const ext4 = edit(example, '{ device: sdc, filesystem: xfs }', '{ device: sdc, filesystem: ext4 }');
    expect(messages(ext4)).toEqual([expect.stringMatching(/changes the filesystem of pve-master-rack-a-1-1:sdc \(xfs → ext4\)/)]);
  });

  it('prints each warning with file:line:col through the CLI, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cias-against-'));
    try {
      writeFileSync(join(dir, 'old.yaml'), example);
      writeFileSync(join(dir, 'new.yaml'), edit(example, 'vmid: 102', 'vmid: 103'));
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['validate', join(dir, 'new.yaml'), '--against', join(dir, 'old.yaml')], { out: (l) => out.push(l), err: (l) => err.push(l) });
      expect(code).toBe(0);
      expect(err).toEqual([expect.stringMatching(/new\.yaml:\d+:5 warning: vms\[1\]: changes VM db's VMID 102 → 103/)]);
      expect(out[0]).toMatch(/1 dangerous change against/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
