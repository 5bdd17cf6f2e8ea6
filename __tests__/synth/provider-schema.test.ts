/**
 * Every synthesized `proxmox_*` resource and `provider "proxmox"` block, checked against the provider's
 * own schema (providers/proxmox@3.0.2-rc09.json, `terraform providers schema -json`): no unknown
 * attribute or block, every required one present, no computed-only attribute set, values of the right
 * type, nested blocks within min_items/max_items, lifecycle.ignore_changes naming real arguments.
 * Terraform cannot check this here (the provider binary is not available offline).
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, TerraformStack } from 'cdktf';
import { ProxmoxVmQemu, addProxmoxProvider } from '../../constructs/proxmox-provider';
import { synthGuests } from '../constructs/guest-synth';
import { StackJson, exampleText, modelOf } from '../helpers/synth';

type TfType = string | [string, unknown];

interface SchemaAttribute {
  readonly type: TfType;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly deprecated?: boolean;
}

interface SchemaBlockType {
  readonly nesting_mode: 'single' | 'group' | 'list' | 'set' | 'map';
  readonly block: SchemaBlock;
  readonly min_items?: number;
  readonly max_items?: number;
}

interface SchemaBlock {
  readonly attributes?: Record<string, SchemaAttribute>;
  readonly block_types?: Record<string, SchemaBlockType>;
}

interface ProviderSchema {
  readonly provider: { readonly block: SchemaBlock };
  readonly resource_schemas: Record<string, { readonly block: SchemaBlock }>;
  readonly data_source_schemas: Record<string, { readonly block: SchemaBlock }>;
}

export interface SchemaReport {
  /** Each: `<path>: <what is wrong>`. */
  readonly errors: string[];
  /** Deprecated attributes or blocks in use (each `<path>`). */
  readonly deprecated: string[];
}

const SCHEMA_FILE = join(__dirname, '../../providers/proxmox@3.0.2-rc09.json');
const schema = (JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as { provider_schemas: Record<string, ProviderSchema> })
  .provider_schemas['registry.terraform.io/telmate/proxmox'];

/** Meta-arguments Terraform accepts on every resource, beside the provider's schema. */
const RESOURCE_META = new Set(['//', 'count', 'for_each', 'depends_on', 'provider', 'lifecycle', 'provisioner', 'connection']);
const LIFECYCLE_KEYS = new Set(['create_before_destroy', 'prevent_destroy', 'ignore_changes', 'replace_triggered_by', 'precondition', 'postcondition']);
const PROVIDER_META = new Set(['alias']);

/** A Terraform JSON string holding an interpolation can evaluate to any type; it is not type-checked. */
const isExpression = (value: unknown): boolean => typeof value === 'string' && value.includes('${');
const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function checkType(value: unknown, type: TfType, path: string, errors: string[]): void {
  if (value === null || isExpression(value)) return;
  if (typeof type === 'string') {
    const ok =
      type === 'dynamic' ||
      (type === 'string' && typeof value === 'string') ||
      (type === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
      (type === 'bool' && typeof value === 'boolean');
    if (!ok) errors.push(`${path}: expected ${type}, got ${JSON.stringify(value)}`);
    return;
  }
  const [kind, element] = type;
  if (kind === 'list' || kind === 'set') {
    if (!Array.isArray(value)) return void errors.push(`${path}: expected a ${kind}, got ${JSON.stringify(value)}`);
    value.forEach((item, i) => checkType(item, element as TfType, `${path}[${i}]`, errors));
  } else if (kind === 'map') {
    if (!isObject(value)) return void errors.push(`${path}: expected a map, got ${JSON.stringify(value)}`);
    for (const [key, item] of Object.entries(value)) checkType(item, element as TfType, `${path}.${key}`, errors);
  } else if (kind === 'object') {
    if (!isObject(value)) return void errors.push(`${path}: expected an object, got ${JSON.stringify(value)}`);
    const fields = element as Record<string, TfType>;
    for (const [key, item] of Object.entries(value)) {
      if (!(key in fields)) errors.push(`${path}.${key}: not an attribute of this object`);
      else checkType(item, fields[key], `${path}.${key}`, errors);
    }
  } else if (kind === 'tuple') {
    const types = element as TfType[];
    if (!Array.isArray(value) || value.length !== types.length) return void errors.push(`${path}: expected a tuple of ${types.length}`);
    value.forEach((item, i) => checkType(item, types[i], `${path}[${i}]`, errors));
  } else {
    errors.push(`${path}: schema type ${JSON.stringify(type)} is not understood by this checker`);
  }
}

function checkBlock(body: unknown, block: SchemaBlock, path: string, report: SchemaReport, meta: ReadonlySet<string>): void {
  if (!isObject(body)) return void report.errors.push(`${path}: expected a block (an object), got ${JSON.stringify(body)}`);
  const attributes = block.attributes ?? {};
  const blocks = block.block_types ?? {};
  for (const [key, value] of Object.entries(body)) {
    const where = `${path}.${key}`;
    if (meta.has(key)) continue;
    const attribute = attributes[key];
    const nested = blocks[key];
    if (attribute) {
      if (attribute.computed && !attribute.optional && !attribute.required) {
        report.errors.push(`${where}: computed by the provider, cannot be set`);
        continue;
      }
      if (attribute.deprecated && value !== null) report.deprecated.push(where);
      checkType(value, attribute.type, where, report.errors);
    } else if (nested) {
      checkNestedBlocks(value, nested, where, report);
    } else {
      report.errors.push(`${where}: no such attribute or block`);
    }
  }
  for (const [key, attribute] of Object.entries(attributes)) {
    if (attribute.required && (body[key] === undefined || body[key] === null)) report.errors.push(`${path}.${key}: required attribute missing`);
  }
  for (const [key, nested] of Object.entries(blocks)) {
    if ((nested.min_items ?? 0) > 0 && body[key] === undefined) report.errors.push(`${path}.${key}: required block missing`);
  }
}

function checkNestedBlocks(value: unknown, nested: SchemaBlockType, path: string, report: SchemaReport): void {
  if (nested.nesting_mode === 'single' || nested.nesting_mode === 'group') {
    checkBlock(value, nested.block, path, report, new Set());
    return;
  }
  if (nested.nesting_mode === 'map') {
    if (!isObject(value)) return void report.errors.push(`${path}: expected a map of blocks`);
    for (const [key, item] of Object.entries(value)) checkBlock(item, nested.block, `${path}.${key}`, report, new Set());
    return;
  }
  // list / set: in Terraform's JSON syntax one block may be written as an object, several as an array.
  const items = Array.isArray(value) ? value : [value];
  if (nested.max_items !== undefined && items.length > nested.max_items) {
    report.errors.push(`${path}: ${items.length} blocks, at most ${nested.max_items} allowed`);
  }
  if (nested.min_items !== undefined && items.length < nested.min_items) {
    report.errors.push(`${path}: ${items.length} blocks, at least ${nested.min_items} required`);
  }
  items.forEach((item, i) => checkBlock(item, nested.block, Array.isArray(value) ? `${path}[${i}]` : path, report, new Set()));
}

function checkLifecycle(lifecycle: unknown, block: SchemaBlock, path: string, errors: string[]): void {
  if (lifecycle === undefined) return;
  if (!isObject(lifecycle)) return void errors.push(`${path}: expected an object`);
  for (const key of Object.keys(lifecycle)) if (!LIFECYCLE_KEYS.has(key)) errors.push(`${path}.${key}: not a lifecycle argument`);
  if (lifecycle.prevent_destroy !== undefined && typeof lifecycle.prevent_destroy !== 'boolean') {
    errors.push(`${path}.prevent_destroy: expected bool`);
  }
  const ignored = lifecycle.ignore_changes;
  if (ignored === undefined || ignored === 'all') return;
  if (!Array.isArray(ignored)) return void errors.push(`${path}.ignore_changes: expected a list or "all"`);
  for (const entry of ignored) {
    const head = String(entry).split(/[.[]/)[0];
    if (!(head in (block.attributes ?? {})) && !(head in (block.block_types ?? {}))) {
      errors.push(`${path}.ignore_changes: ${String(entry)} is not an argument of this resource`);
    }
  }
}

/** Checks every `proxmox_*` resource, data source and provider block of one synthesized stack. */
export function checkStackAgainstSchema(stackName: string, stack: StackJson): SchemaReport & { checked: number } {
  const report: SchemaReport = { errors: [], deprecated: [] };
  let checked = 0;
  const sections: [string, Record<string, Record<string, unknown>> | undefined, Record<string, { block: SchemaBlock }>][] = [
    ['resource', stack.resource as Record<string, Record<string, unknown>> | undefined, schema.resource_schemas],
    ['data', (stack as Record<string, unknown>).data as Record<string, Record<string, unknown>> | undefined, schema.data_source_schemas],
  ];
  for (const [section, byType, schemas] of sections) {
    for (const [type, byName] of Object.entries(byType ?? {})) {
      if (!type.startsWith('proxmox_')) continue;
      const definition = schemas[type];
      for (const [name, body] of Object.entries(byName as Record<string, unknown>)) {
        const path = `${stackName}:${section}.${type}.${name}`;
        checked++;
        if (!definition) {
          report.errors.push(`${path}: the provider has no ${section === 'data' ? 'data source' : 'resource'} ${type}`);
          continue;
        }
        checkBlock(body, definition.block, path, report, RESOURCE_META);
        checkLifecycle((body as Record<string, unknown>).lifecycle, definition.block, `${path}.lifecycle`, report.errors);
      }
    }
  }
  const providers = (stack as { provider?: Record<string, unknown[]> }).provider ?? {};
  for (const [index, config] of (providers.proxmox ?? []).entries()) {
    checked++;
    checkBlock(config, schema.provider.block, `${stackName}:provider.proxmox[${index}]`, report, PROVIDER_META);
  }
  return { ...report, checked };
}

/** A stack holding one hand-written resource body, for the checker's own tests. */
const stackWith = (type: string, body: Record<string, unknown>): StackJson => ({ resource: { [type]: { bad: body } } });
const goodVm = (): Record<string, unknown> => ({
  vmid: 101,
  name: 'web',
  target_node: 'pve-a',
  cpu: { cores: 2, sockets: 1 },
  network: [{ id: 0, model: 'virtio', bridge: 'vmbr0', macaddr: '02:C1:A5:00:00:65' }],
  disks: { scsi: { scsi0: { disk: { size: '20G', storage: 'a_mfs' } } } },
  lifecycle: { ignore_changes: ['target_node', 'network'], prevent_destroy: false },
});

describe('provider schema checker', () => {
  it('accepts a correct resource', () => {
    expect(checkStackAgainstSchema('t', stackWith('proxmox_vm_qemu', goodVm()))).toEqual({ errors: [], deprecated: [], checked: 1 });
  });

  it.each<[string, (vm: Record<string, any>) => void, string]>([
    ['an unknown attribute', (vm) => (vm.colour = 'blue'), 'resource.proxmox_vm_qemu.bad.colour: no such attribute or block'],
    ['a string where a number belongs', (vm) => (vm.vmid = '101'), 'vmid: expected number'],
    ['a number where a string belongs', (vm) => (vm.name = 7), 'name: expected string'],
    ['a string where a bool belongs', (vm) => (vm.full_clone = 'yes'), 'full_clone: expected bool'],
    ['a scalar where a set belongs', (vm) => (vm.target_nodes = 'pve-a'), 'target_nodes: expected a set'],
    ['a wrong element type in a set', (vm) => (vm.target_nodes = ['pve-a', 3]), 'target_nodes[1]: expected string'],
    ['a computed-only attribute', (vm) => (vm.current_node = 'pve-a'), 'current_node: computed by the provider, cannot be set'],
    ['a missing required nested attribute', (vm) => delete vm.network[0].model, 'network[0].model: required attribute missing'],
    ['a wrong type inside a nested block', (vm) => (vm.network[0].id = 'zero'), 'network[0].id: expected number'],
    ['too many blocks', (vm) => (vm.cpu = [{ cores: 1 }, { cores: 2 }]), 'cpu: 2 blocks, at most 1 allowed'],
    ['an unknown nested block', (vm) => (vm.disks.scsi.scsi99 = { disk: { size: '1G', storage: 'x' } }), 'disks.scsi.scsi99: no such attribute or block'],
    ['a missing required attribute deep down', (vm) => delete vm.disks.scsi.scsi0.disk.storage, 'disks.scsi.scsi0.disk.storage: required attribute missing'],
    ['a scalar where a block belongs', (vm) => (vm.cpu = 2), 'cpu: expected a block'],
    ['ignore_changes naming nothing', (vm) => (vm.lifecycle.ignore_changes = ['targetNode']), 'ignore_changes: targetNode is not an argument'],
    ['an unknown lifecycle argument', (vm) => (vm.lifecycle.prevent_destory = true), 'lifecycle.prevent_destory: not a lifecycle argument'],
  ])('rejects %s', (_what, spoil, message) => {
    const vm = goodVm();
    spoil(vm);
    const { errors } = checkStackAgainstSchema('t', stackWith('proxmox_vm_qemu', vm));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(message);
  });

  it('rejects a resource type the provider does not have, and a required top-level attribute missing', () => {
    expect(checkStackAgainstSchema('t', stackWith('proxmox_vm', {})).errors).toEqual([
      't:resource.proxmox_vm.bad: the provider has no resource proxmox_vm',
    ]);
    expect(checkStackAgainstSchema('t', stackWith('proxmox_pool', {})).errors).toEqual([
      't:resource.proxmox_pool.bad.poolid: required attribute missing',
    ]);
  });

  it('reports deprecated attributes separately', () => {
    const vm = { ...goodVm(), onboot: true, cores: 2 };
    const report = checkStackAgainstSchema('t', stackWith('proxmox_vm_qemu', vm));
    expect(report.errors).toEqual([]);
    expect(report.deprecated.sort()).toEqual(['t:resource.proxmox_vm_qemu.bad.cores', 't:resource.proxmox_vm_qemu.bad.onboot']);
  });

  it('checks provider blocks too', () => {
    const stack: StackJson = { provider: { proxmox: [{ pm_api_url: 'https://x:8006/api2/json', pm_parallel: 'two', pm_token: 'x' }] } };
    expect(checkStackAgainstSchema('t', stack).errors.sort()).toEqual([
      't:provider.proxmox[0].pm_parallel: expected number, got "two"',
      't:provider.proxmox[0].pm_token: no such attribute or block',
    ]);
  });

  it('catches a bad attribute that made it through cdktf synthesis', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cias-schema-'));
    try {
      const app = new App({ outdir });
      const stack = new TerraformStack(app, 'bad');
      addProxmoxProvider(stack, { apiUrl: 'https://x:8006/api2/json', tlsInsecure: false, parallel: 2, minimumPermissionCheck: true });
      const vm = new ProxmoxVmQemu(stack, 'vm', { vmid: 101, name: 'web', targetNode: 'pve-a', network: [{ id: 0, model: 'virtio' }] });
      vm.addOverride('memory_mb', 2048);
      vm.addOverride('network.0.model', null);
      app.synth();
      const json = JSON.parse(readFileSync(join(outdir, 'stacks/bad/cdk.tf.json'), 'utf8')) as StackJson;
      expect(checkStackAgainstSchema('bad', json).errors.sort()).toEqual([
        'bad:resource.proxmox_vm_qemu.vm.memory_mb: no such attribute or block',
        'bad:resource.proxmox_vm_qemu.vm.network[0].model: required attribute missing',
      ]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('synthesized guest stacks against the provider schema', () => {
  const { stacks } = synthGuests(modelOf(exampleText()));

  it('has no error and uses no deprecated argument in any proxmox_* resource or provider block', () => {
    let checked = 0;
    const errors: string[] = [];
    const deprecated: string[] = [];
    for (const [name, stack] of stacks) {
      const report = checkStackAgainstSchema(name, stack);
      checked += report.checked;
      errors.push(...report.errors);
      deprecated.push(...report.deprecated);
    }
    expect(errors).toEqual([]);
    expect(deprecated).toEqual([]);
    // 3 stacks × 1 provider block, the gateway and the example's 3 VMs.
    expect(checked).toBe(3 + 1 + 3);
  });
});
