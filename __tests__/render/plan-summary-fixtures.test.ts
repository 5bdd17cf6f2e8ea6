import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import {
  actionKind,
  constructPathOf,
  parseTerraformPlan,
  PlanClusterContext,
  PlanFormatError,
  ResourceChangeJson,
  TerraformPlanJson,
} from '../../render/plan-summary-changes';
import { code, GITHUB_COMMENT_LIMIT, PLAN_SUMMARY_MARKER, renderPlanSummary } from '../../render/plan-summary';
import { alertItems, cells, FIXTURES, fixture, row, tableRows } from './plan-summary-helpers';

const A = 'pve-master-rack-a-1-1';
const B = 'pve-master-rack-b-1-2';

const cluster: PlanClusterContext = {
  domain: 'example.com',
  bootstrap: { name: A },
  nodes: [
    { name: A, ip: '10.254.1.1' },
    { name: B, ip: '10.254.1.2' },
  ],
  retired: [{ ip: '10.254.1.4', hostname: 'pve.master-rack.d.1-4.example.com', retiredOn: '2026-03-01' }],
};

const vmStacks = () => [
  { stack: 'vms-e10', plan: fixture('vms-e10.json') },
  { stack: 'gateway', plan: fixture('gateway-replace.json') },
  { stack: 'vms-e0', plan: fixture('vms-e0.json') },
];

describe('fixtures', () => {
  const schema = JSON.parse(readFileSync(join(__dirname, '../../providers/proxmox@3.0.2-rc09.json'), 'utf8'));
  const vmBlock = schema.provider_schemas['registry.terraform.io/telmate/proxmox'].resource_schemas.proxmox_vm_qemu.block;
  const known = new Set([...Object.keys(vmBlock.attributes), ...Object.keys(vmBlock.block_types)]);

  it.each(readdirSync(FIXTURES).filter((f) => f.endsWith('.json')))('%s is a plan whose VMs use only proxmox_vm_qemu attributes', (name) => {
    const plan = parseTerraformPlan(readFileSync(join(FIXTURES, name), 'utf8'), name);
    for (const rc of plan.resource_changes ?? []) {
      if (rc.type !== 'proxmox_vm_qemu') continue;
      for (const side of [rc.change.before, rc.change.after]) {
        if (side === null) continue;
        const unknownKeys = Object.keys(side as object).filter((k) => !known.has(k));
        expect(unknownKeys).toEqual([]);
      }
    }
  });
});

describe('renderPlanSummary on proxmox plans', () => {
  const md = renderPlanSummary({ stacks: vmStacks(), cluster });
  const caution = alertItems(md, 'CAUTION');
  const warning = alertItems(md, 'WARNING');

  it('starts with the marker CI finds its comment by, and counts every action', () => {
    expect(md.startsWith(`${PLAN_SUMMARY_MARKER}\n## cias plan\n`)).toBe(true);
    expect(md).toContain('**3 stacks**: ➕ 3 to create · ✏️ 1 to update · 🔁 4 to replace · ➖ 2 to destroy · 1 to forget');
  });

  it('puts the gateway first among the cautions, with why it is re-created', () => {
    expect(caution[0]).toMatch(/^\*\*Re-creates the gateway VM \(VMID 100 `cias-router`\)\*\* on `pve-master-rack-a-1-1`/);
    expect(caution[0]).toContain('Forced by: `clone`.');
    expect(caution[0]).toContain('NAT, DHCP, DNS');
  });

  it('cautions for every tenant VM destroyed or re-created, and for nothing else', () => {
    const tenant = caution.slice(1);
    expect(tenant).toHaveLength(4);
    expect(tenant[0]).toMatch(/^\*\*Destroys VM 104 `old-build`\*\* on `pve-master-rack-b-1-2`: its disks/);
    expect(tenant.find((c) => c.includes('VM 105'))).toMatch(/^\*\*Re-creates VM 105 `ci-runner`\*\*.*Forced by: `clone`\./);
    // create-before-destroy (["create","delete"]) is a replacement too.
    expect(tenant.find((c) => c.includes('VM 10501'))).toMatch(/Re-creates VM 10501 `mail`.*Forced by: `disks`\./);
    // A delete and a create of the same VMID under two addresses: one VM re-created.
    expect(tenant.find((c) => c.includes('VM 10502'))).toContain('Its resource address changed (was `proxmox_vm_qemu.vm-10502`)');
    for (const vmid of ['101', '102', '103', '10503', '10504']) expect(caution.join('\n')).not.toContain(`VM ${vmid} `);
  });

  it('lists every changing VM once, destroyed first, with node moves and changed attributes', () => {
    const rows = tableRows(md, 'VMs');
    expect(rows.map((r) => r[0])).toEqual(['104', '100 (gateway)', '105', '10501', '10502', '103', '10503', '102', '10504']);
    expect(row(md, 'VMs', '104')).toEqual(['104', '`old-build`', '`pve-master-rack-b-1-2`', '➖ **destroyed**', '']);
    expect(row(md, 'VMs', '102')).toEqual(['102', '`db`', '`pve-master-rack-b-1-2` → `pve-master-rack-c-1-3`', '✏️ changed', '`memory`, `target_node`']);
    expect(row(md, 'VMs', '103')).toEqual(['103', '`cache`', '`pve-master-rack-a-1-1`', '➕ created', '']);
    expect(row(md, 'VMs', '10503')![1]).toBe('_(sensitive)_');
    expect(row(md, 'VMs', '10502')![4]).toBe('address changed, was `proxmox_vm_qemu.vm-10502`');
    expect(row(md, 'VMs', '10504')![3]).toBe('forgotten (keeps running)');
    expect(md).not.toMatch(/\| 101 \|/);
  });

  it('warns about a VM that leaves the state but keeps running', () => {
    expect(warning).toEqual(["VM 10504 `legacy` leaves Terraform's state but keeps running: cias no longer manages it."]);
  });

  it('counts per stack in apply order, and lists other changing resources', () => {
    expect(tableRows(md, 'Resources per stack')).toEqual([
      ['`gateway`', '0', '0', '2', '0', '1', '0'],
      ['`vms-e0`', '1', '1', '1', '1', '1', '0'],
      ['`vms-e10`', '2', '0', '1', '1', '0', '1'],
    ]);
    expect(md).toContain('| `gateway` | `null_resource.cias-router_rules_push_0C1F2A3B` | replace |');
    expect(md).not.toContain('storage_push');
  });
});

describe('gateway changed in place', () => {
  const md = renderPlanSummary({ stacks: [{ stack: 'gateway', plan: fixture('gateway-update.json') }], cluster });

  it('warns (not cautions) and says the provider may reboot it', () => {
    expect(alertItems(md, 'CAUTION')).toEqual([]);
    expect(alertItems(md, 'WARNING')).toEqual([
      'Changes the gateway VM (VMID 100) in place: `memory`. The provider reboots it when a changed setting needs a reboot (automatic_reboot).',
    ]);
    expect(row(md, 'VMs', '100 (gateway)')).toEqual(['100 (gateway)', '`cias-router`', '`pve-master-rack-a-1-1`', '✏️ changed', '`memory`']);
  });
});

describe('retired addresses', () => {
  const hosts = () => [{ stack: 'hosts', plan: fixture('hosts-retired-node.json') }];

  it('cautions when a created node takes a retired IP', () => {
    const md = renderPlanSummary({ stacks: hosts(), cluster });
    expect(alertItems(md, 'CAUTION')).toEqual([
      '**node `pve-master-rack-d-1-4` reuses a retired address**: `10.254.1.4` (`pve.master-rack.d.1-4.example.com`, retired 2026-03-01). ' +
        'Proxmox breaks when a hostname or address comes back; give it the next free address.',
    ]);
    expect(row(md, 'Nodes', '`pve-master-rack-d-1-4`')).toEqual(['`pve-master-rack-d-1-4`', '➕ added', 'creates all 3 resources']);
  });

  it('recognises a retired hostname even when its IP was not the one reused', () => {
    const byName = { ...cluster, retired: [{ ip: '10.254.5.5', hostname: 'pve.master-rack.d.1-4.example.com' }] };
    expect(alertItems(renderPlanSummary({ stacks: hosts(), cluster: byName }), 'CAUTION')[0]).toContain('reuses a retired address');
  });

  it('skips the check without a cluster and says so', () => {
    const md = renderPlanSummary({ stacks: hosts() });
    expect(alertItems(md, 'CAUTION')).toEqual([]);
    expect(md).toContain('_No cluster.yaml given: bootstrap-node and retired-address checks were skipped._');
  });
});

/** A copy of a fixture VM change under another VMID. */
function vmCopy(template: ResourceChangeJson, vmid: number): ResourceChangeJson {
  const swap = (side: unknown) => (side === null ? null : { ...(side as object), vmid, name: `vm${vmid}` });
  return { ...template, address: `proxmox_vm_qemu.vm-${vmid}`, name: `vm-${vmid}`, change: { ...template.change, before: swap(template.change.before), after: swap(template.change.after) } };
}

describe('size', () => {
  const e0 = fixture('vms-e0.json').resource_changes!;
  const created = e0.find((rc) => rc.name === 'vm-103')!;
  const destroyed = e0.find((rc) => rc.name === 'vm-104')!;
  const big: TerraformPlanJson = {
    format_version: '1.2',
    resource_changes: Array.from({ length: 495 }, (_, i) => {
      const vmid = 1000 * (1 + Math.floor(i / 99)) + 100 * (1 + Math.floor((i % 99) / 20)) + 1 + (i % 20);
      return [vmCopy(created, vmid), vmCopy(destroyed, vmid + 50)];
    }).flat(),
  };

  it('stays within one GitHub comment with every row capped', () => {
    const md = renderPlanSummary({ stacks: [{ stack: 'vms-e1', plan: big }] });
    expect(md.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    expect(tableRows(md, 'VMs')).toHaveLength(51);
    expect(tableRows(md, 'VMs')[50][0]).toBe('+940 more');
    expect(alertItems(md, 'CAUTION')).toHaveLength(51);
    expect(alertItems(md, 'CAUTION')[50]).toBe('…and 445 more');
  });

  it('cuts rows further to meet a smaller limit', () => {
    const md = renderPlanSummary({ stacks: [{ stack: 'vms-e1', plan: big }], maxChars: 6000 });
    expect(md.length).toBeLessThanOrEqual(6000);
    expect(tableRows(md, 'VMs').length).toBeLessThan(51);
    expect(md).toContain('### Resources per stack');
  });
});

describe('unusual plans', () => {
  const plan = (changes: ResourceChangeJson[], extra: Partial<TerraformPlanJson> = {}): TerraformPlanJson => ({ format_version: '1.2', resource_changes: changes, ...extra });
  const data = (address: string, actions: string[]): ResourceChangeJson => ({
    address,
    mode: 'managed',
    type: address.split('.')[0],
    name: address.split('.')[1],
    change: { actions, before: null, after: {} },
  });

  it('says when nothing changes and draws no tables', () => {
    const md = renderPlanSummary({ stacks: [{ stack: 'hosts', plan: plan([data('terraform_data.x_push_0A0B0C0D', ['no-op'])]) }], cluster });
    expect(md).toContain('**1 stack**: no changes. The infrastructure matches the configuration.');
    expect(md).not.toContain('### Nodes');
    expect(md).not.toContain('[!CAUTION]');
  });

  it('reports failed stacks loudly with the end of their log, fenced safely and without colours', () => {
    const log = `${Array.from({ length: 60 }, (_, i) => `line ${i}`).join('\n')}\n\x1b[31mError:\x1b[0m bad \`\`\`fence\`\`\`\n`;
    const md = renderPlanSummary({ stacks: [], failed: [{ stack: 'gateway', log }] });
    expect(alertItems(md, 'CAUTION')).toEqual(['**terraform plan failed for stack `gateway`**: nothing below covers it (log at the end of the alerts).']);
    expect(md).toContain('<details><summary>terraform plan output of <code>gateway</code> (last lines)</summary>\n\n````text\n');
    expect(md).toContain('Error: bad ```fence```\n````\n</details>');
    expect(md).not.toContain('line 30\n');
    expect(md).toContain('line 31\n');
    expect(md).not.toContain('\x1b');
    expect(tableRows(md, 'Resources per stack')).toEqual([['`gateway`', '**plan failed**', '', '', '', '']]);
  });

  it('flags errored, incomplete and unknown-action plans', () => {
    const md = renderPlanSummary({
      stacks: [
        { stack: 'vms-e1', plan: plan([], { errored: true }) },
        { stack: 'vms-e2', plan: plan([], { complete: false }) },
        { stack: 'vms-e3', plan: plan([data('terraform_data.y', ['create', 'forget'])]) },
      ],
    });
    expect(alertItems(md, 'CAUTION')).toEqual(['**The plan of stack `vms-e1` stopped on an error**: it is incomplete; fix the error and plan again.']);
    expect(alertItems(md, 'WARNING')).toEqual([
      'The plan of stack `vms-e2` is incomplete (deferred changes): apply it, then plan again.',
      'Stack `vms-e3` has 1 resource change(s) with actions this summary does not know; read the plan.',
    ]);
  });

  it('keeps table cells intact whatever a VM is called', () => {
    const template = fixture('vms-e0.json').resource_changes!.find((rc) => rc.name === 'vm-103')!;
    const odd = { ...template, change: { ...template.change, after: { ...(template.change.after as object), name: 'a|b `c`\nd' } } };
    const md = renderPlanSummary({ stacks: [{ stack: 'vms-e0', plan: plan([odd]) }] });
    const line = md.split('\n').find((l) => l.startsWith('| 103 |'))!;
    expect(cells(line)).toHaveLength(5);
    expect(cells(line)[1]).toBe('`` a\\|b `c` d ``');
  });
});

describe('helpers', () => {
  it('folds action lists the way terraform counts them', () => {
    expect(actionKind(['delete', 'create'])).toBe('replace');
    expect(actionKind(['create', 'delete'])).toBe('replace');
    expect(actionKind(['no-op'])).toBe('no-op');
    expect(actionKind(['create', 'forget'])).toBe('other');
  });

  it('reads construct paths back from cdktf logical IDs', () => {
    expect(constructPathOf('pve-master-rack-a-1-1_keepalived_push_D395AE65')).toEqual(['pve-master-rack-a-1-1', 'keepalived', 'push']);
    expect(constructPathOf('pve-master-rack-a-1-1_leave_scenario5_4FAE34AB')).toEqual(['pve-master-rack-a-1-1', 'leave', 'scenario5']);
    expect(constructPathOf('vm-10501')).toEqual(['vm-10501']);
  });

  it('makes code spans that survive tables', () => {
    expect(code('plain')).toBe('`plain`');
    expect(code('x'.repeat(100))).toBe(`\`${'x'.repeat(79)}…\``);
    expect(code('')).toBe('');
  });

  it('refuses what is not a plan', () => {
    expect(() => parseTerraformPlan('{', 'p.json')).toThrow(PlanFormatError);
    expect(() => parseTerraformPlan('{"format_version":"1.0","values":{}}', 'state.json')).toThrow(/state, not of a plan/);
    expect(() => parseTerraformPlan('{"format_version":"2.0","resource_changes":[]}', 'p.json')).toThrow(/format 2.0 is not 1.x/);
    expect(() => parseTerraformPlan('{"format_version":"1.2","resource_changes":[{"address":1}]}', 'p.json')).toThrow(/resource_changes\[0\]\.address/);
  });
});
