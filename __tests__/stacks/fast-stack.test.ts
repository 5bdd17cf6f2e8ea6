import { App, Aspects, Fn, TerraformResource, TerraformStack, TerraformVariable } from 'cdktf';
import { Resource as NullResource } from '@cdktf/provider-null/lib/resource';
import { edit, exampleText, modelOf } from '../helpers/cluster-text';
import { buildCias } from '../../stacks/cias';
import { Construct } from 'constructs';
import { ProxmoxVmQemu } from '../../constructs/proxmox-provider';
import { vmSlotConfig } from '../../constructs/vm-slot';
import { NullResource as FastNullResource } from '../../constructs/provisioning-fragment';
import { TerraformData } from '../../constructs/terraform-data';
import { resolve } from 'cdktf/lib/_tokens';
import { LongStringJson } from '../../constructs/json-text';
import { FastSynthStack, holdsTokens, plainOrNeedsResolve, stableJson } from '../../stacks/fast-stack';
// cdktf's own writer, resolved from cdktf's dependencies.
const stableStringify = require(require.resolve('json-stable-stringify', { paths: [require.resolve('cdktf')] })) as (value: unknown, options: { space: number }) => string;

/** cdktf's own synthesis of a stack, for comparison. */
function cdktfToTerraform(stack: TerraformStack): unknown {
  TerraformStack.prototype.prepareStack.call(stack);
  return TerraformStack.prototype.toTerraform.call(stack);
}

/** A VM unlike the example's: no cloud-init, two controllers, block storage, tags, template escapes, own MAC. */
const LEGACY_VM = `  - vmid: 10502
    name: legacy
    mac: '02:00:00:ab:cd:ef'
    node: pve-master-rack-a-1-1
    cloud_init: false
    onboot: false
    full_clone: false
    cores: 4
    sockets: 2
    tags: [zeta, alpha]
    description: 'keeps \${HOME} and %{ literal }'
    disks:
      - { slot: virtio0, size_gb: 8, storage: local-lvm }
      - { slot: scsi1, size_gb: 100 }
`;

describe('FastSynthStack', () => {
  it.each([
    ['the example', exampleText()],
    ['terraform_data, VRRP auth, unicast', edit(exampleText(), 'provisioning:\n  resource_type: null_resource', 'keepalived: { auth: true, unicast: true }\nprovisioning:\n  resource_type: terraform_data')],
  ])('produces exactly what cdktf produces for every stack of %s', (_name, text) => {
    const app = new App({ outdir: '/tmp/cias-fast-unused', skipValidation: true });
    buildCias(app, modelOf(text));
    const stacks = app.node.children.filter(TerraformStack.isStack);
    expect(stacks.length).toBe(4);
    for (const stack of stacks) {
      expect(stack).toBeInstanceOf(FastSynthStack);
      stack.prepareStack();
      const fast = stack.toTerraform();
      const reference = cdktfToTerraform(stack);
      expect(fast).toEqual(reference);
      // The file text too: cdktf writes with json-stable-stringify, cias with the native serializer;
      // they differ only in how an empty {} or [] is laid out.
      const compact = (text: string) => text.replace(/\{\n\s*\}/g, '{}').replace(/\[\n\s*\]/g, '[]');
      expect(stableJson(fast)).toBe(compact(stableStringify(reference, { space: 2 })));
    }
  });

  it('writes the stack files through cdktf (manifest, annotations) with the same text', () => {
    const { mkdtempSync, readFileSync, rmSync } = require('fs') as typeof import('fs');
    const outdir = mkdtempSync('/tmp/cias-fast-');
    try {
      const app = new App({ outdir, skipValidation: true });
      const { hosts } = buildCias(app, modelOf(exampleText()));
      app.synth();
      const manifest = JSON.parse(readFileSync(`${outdir}/manifest.json`, 'utf8'));
      expect(Object.keys(manifest.stacks).sort()).toEqual(['gateway', 'hosts', 'vms-e0', 'vms-e10']);
      const text = readFileSync(`${outdir}/stacks/hosts/cdk.tf.json`, 'utf8');
      expect(JSON.parse(text)).toEqual(JSON.parse(stableStringify(JSON.parse(text), { space: 2 })));
      expect(text.indexOf('"//"')).toBeLessThan(text.indexOf('"locals"'));
      expect(text.indexOf('"locals"')).toBeLessThan(text.indexOf('"resource"'));
      expect(JSON.parse(text).resource.null_resource).toBeDefined();
      expect(hosts.node.id).toBe('hosts');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('writes each stack file as the text of its data document (VM records written as text, long strings in slices)', () => {
    const { mkdtempSync, readFileSync, rmSync } = require('fs') as typeof import('fs');
    const outdir = mkdtempSync('/tmp/cias-fast-');
    try {
      const text = edit(edit(exampleText(), '\nwatchdog:', `\n${LEGACY_VM}\nwatchdog:`), 'provisioning:\n  resource_type: null_resource', 'provisioning:\n  resource_type: terraform_data');
      const app = new App({ outdir, skipValidation: true });
      const { shards } = buildCias(app, modelOf(text));
      app.synth();
      const stacks = app.node.children.filter(TerraformStack.isStack);
      for (const stack of stacks) {
        const written = readFileSync(`${outdir}/stacks/${stack.node.id}/cdk.tf.json`, 'utf8');
        expect(written).toBe(stableJson(stack.toTerraform()));
      }
      // The shards' VMs really took the text path, and the shared scripts bundle is long enough to be sliced.
      const longest = (value: unknown): number =>
        typeof value === 'string' ? value.length : value && typeof value === 'object' ? Math.max(0, ...Object.values(value).map(longest)) : 0;
      expect(longest(stacks.find((stack) => stack.node.id === 'hosts')!.toTerraform())).toBeGreaterThanOrEqual(LongStringJson.MIN_LENGTH);
      const fleet = shards.find((shard) => shard.node.id === 'vms-e10')!.fleet;
      expect(fleet.toPrerenderedTerraform().resource.proxmox_vm_qemu.constructor.name).toBe('FleetResources');
      expect(readFileSync(`${outdir}/stacks/vms-e10/cdk.tf.json`, 'utf8')).toContain('"description": "keeps $${HOME} and %%{ literal }"');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('a fleet writes its records as the text of its data, nested at any indentation', () => {
    const text = edit(exampleText(), '\nwatchdog:', `\n${LEGACY_VM}\nwatchdog:`);
    const app = new App({ outdir: '/tmp/cias-fast-unused', skipValidation: true });
    for (const shard of buildCias(app, modelOf(text)).shards) {
      const data = shard.fleet.toTerraform().resource.proxmox_vm_qemu;
      const prerendered = shard.fleet.toPrerenderedTerraform().resource.proxmox_vm_qemu;
      for (const indent of ['', '    ', '\t']) {
        expect(prerendered.toJsonText(indent)).toBe(JSON.stringify(data, undefined, 2).replace(/\n/g, `\n${indent}`));
      }
      expect(prerendered.toValue()).toEqual(data);
    }
  });

  it("ProxmoxVmQemu's own toTerraform equals cdktf's generic one for the gateway", () => {
    const app = new App({ outdir: '/tmp/cias-fast-unused', skipValidation: true });
    const vm = buildCias(app, modelOf(exampleText())).gateway.gateway.vm;
    expect(vm.isPlain).toBe(true);
    expect(vm.toTerraform()).toEqual(plainOrNeedsResolve(TerraformResource.prototype.toTerraform.call(vm)));
  });

  it('a shard\'s VmFleet emits, per VM, what cdktf synthesizes for a ProxmoxVmQemu of vmSlotConfig', () => {
    const text = edit(exampleText(), '\nwatchdog:', `\n${LEGACY_VM}\nwatchdog:`);
    const app = new App({ outdir: '/tmp/cias-fast-unused', skipValidation: true });
    const { shards } = buildCias(app, modelOf(text));
    let compared = 0;
    for (const shard of shards) {
      const fleet = shard.fleet.toTerraform().resource.proxmox_vm_qemu;
      const reference = new Construct(new TerraformStack(new App({ outdir: '/tmp/cias-fast-unused' }), shard.node.id), 'vms');
      expect(Object.keys(fleet)).toEqual([...shard.fleet.vms.keys()].map((vmid) => `vm-${vmid}`).sort());
      for (const vm of shard.fleet.vms.values()) {
        const single = new ProxmoxVmQemu(reference, `vm-${vm.vmid}`, vmSlotConfig({ vm }));
        single.overrideLogicalId(`vm-${vm.vmid}`);
        const generic = plainOrNeedsResolve(TerraformResource.prototype.toTerraform.call(single)) as any;
        expect(fleet[`vm-${vm.vmid}`]).toEqual(generic.resource.proxmox_vm_qemu[`vm-${vm.vmid}`]);
        compared++;
      }
    }
    expect(compared).toBe(4);
  });

  it.each([
    ['null_resource', 'provisioning:\n  resource_type: null_resource'],
    ['terraform_data', 'provisioning:\n  resource_type: terraform_data'],
  ])('writes every %s push and leave as cdktf\'s generic synthesis does (depends_on, count, lifecycle, bastion)', (type, provisioning) => {
    const nodeC = exampleText().slice(exampleText().indexOf('  - rack: master-rack\n    position: c'), exampleText().indexOf('\nretired: []'));
    const text = edit(
      edit(edit(exampleText(), nodeC, ''), 'retired: []', 'retired:\n  - { ip: 10.254.1.3, hostname: pve.master-rack.c.1-3.example.com }'),
      'provisioning:\n  resource_type: null_resource',
      `${provisioning}\n  bastion: { host: jump.example.com, port: 2222 }`,
    );
    const app = new App({ outdir: '/tmp/cias-fast-unused', skipValidation: true });
    buildCias(app, modelOf(text));
    let compared = 0;
    for (const stack of app.node.children.filter(TerraformStack.isStack)) {
      for (const element of stack.node.findAll()) {
        if (!TerraformResource.isTerraformResource(element) || element.terraformResourceType !== type) continue;
        const fast = element.toTerraform();
        expect(fast.resource).toBeDefined();
        expect(resolve(stack, fast)).toEqual(resolve(stack, TerraformResource.prototype.toTerraform.call(element)));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('falls back to cdktf for what the fast path does not reproduce (overrides, reassigned dependsOn, other stacks)', () => {
    const app = new App({ outdir: '/tmp/cias-fast-unused', skipValidation: true });
    const stack = new FastSynthStack(app, 'a');
    const other = new FastSynthStack(app, 'b');
    const first = new TerraformData(stack, 'first');
    const elsewhere = new TerraformData(other, 'elsewhere');
    const overridden = new TerraformData(stack, 'overridden', { dependsOn: [first] });
    overridden.addOverride('input', 'x');
    const reassigned = new TerraformData(stack, 'reassigned', { dependsOn: [first] });
    reassigned.dependsOn = [];
    const pushed = new TerraformData(stack, 'pushed', { dependsOn: [first] });
    pushed.dependsOn!.push(first.fqn);
    const crossStack = new FastNullResource(stack, 'cross', { dependsOn: [elsewhere] });
    const fastPathOf = (resource: TerraformResource) => {
      const fragment = TerraformResource.prototype.toTerraform.call(resource);
      return JSON.stringify(resource.toTerraform()) === JSON.stringify(fragment);
    };
    expect(fastPathOf(overridden)).toBe(true);
    expect(fastPathOf(reassigned)).toBe(true);
    expect(fastPathOf(pushed)).toBe(true);
    expect(fastPathOf(crossStack)).toBe(true);
    expect(new TerraformData(stack, 'plain', { dependsOn: [first] }).toTerraform().resource.terraform_data.plain.depends_on).toEqual([
      'terraform_data.first',
    ]);
  });

  it('writes what an aspect changed after the preparing pass', () => {
    const { mkdtempSync, readFileSync, rmSync } = require('fs') as typeof import('fs');
    const outdir = mkdtempSync('/tmp/cias-fast-');
    try {
      const app = new App({ outdir, skipValidation: true });
      const stack = new FastSynthStack(app, 'aspects');
      new TerraformData(stack, 'plain', { triggersReplace: { a: '1' } });
      Aspects.of(stack).add({
        visit: (node) => {
          if (node instanceof TerraformData) node.addOverride('triggers_replace.a', 'changed by an aspect');
        },
      });
      app.synth();
      const written = JSON.parse(readFileSync(`${outdir}/stacks/aspects/cdk.tf.json`, 'utf8'));
      expect(written.resource.terraform_data.plain.triggers_replace).toEqual({ a: 'changed by an aspect' });
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('hands fragments with tokens to cdktf (references, functions, variables)', () => {
    const app = new App({ outdir: '/tmp/cias-fast-unused', skipValidation: true });
    const stack = new FastSynthStack(app, 'tokens');
    const variable = new TerraformVariable(stack, 'v', { type: 'string' });
    const first = new NullResource(stack, 'first', { triggers: { v: variable.stringValue, n: Fn.upper(variable.stringValue) } });
    new NullResource(stack, 'second', { triggers: { id: first.id }, dependsOn: [first] });
    stack.prepareStack();
    const fast = stack.toTerraform();
    expect(fast).toEqual(cdktfToTerraform(stack));
    expect(JSON.stringify(fast)).toContain('${var.v}');
    expect(JSON.stringify(fast)).toContain('${null_resource.first.id}');
    expect(JSON.stringify(fast)).not.toContain('TfToken[');
  });

  it('recognises every token encoding as needing resolution', () => {
    const needs = (value: unknown) => {
      const copyCheck = typeof plainOrNeedsResolve(value) === 'symbol';
      expect(holdsTokens(value)).toBe(copyCheck);
      return copyCheck;
    };
    expect(needs('${TfToken[TOKEN.1]}')).toBe(true);
    expect(needs(['#{TfToken[TOKEN.2]}'])).toBe(true);
    expect(needs({ '${TfToken[TOKEN.3]}': 1 })).toBe(true);
    expect(needs('String Map Token Value')).toBe(true);
    expect(needs(-123456789)).toBe(true);
    expect(needs(-1.8881545897087626e289)).toBe(true);
    expect(needs(new Date())).toBe(true);
    expect(needs({ a: [1, 'x', { b: true }] })).toBe(false);
    expect(plainOrNeedsResolve({ a: undefined, b: [1, undefined, 2] })).toEqual({ b: [1, 2] });
  });
});
