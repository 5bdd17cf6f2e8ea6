/**
 * Reads `terraform show -json <planfile>` output of the cias stacks and sorts its resource changes into
 * what an operator reviews: Proxmox nodes (from the hosts stack's logical IDs), VMs (every
 * `proxmox_vm_qemu`), other resources, and per-stack counts. Pure: no file access, no cdktf.
 *
 * cdktf logical IDs are the construct path below the stack joined with `_` plus an 8-hex-digit hash
 * (`pve-master-rack-a-1-1_keepalived_push_D395AE65` for `hosts/pve-master-rack-a-1-1/keepalived/push`).
 * The plan JSON carries no construct metadata, so the path is read back from the ID: node names are DNS
 * labels and never contain `_`.
 */
import { GATEWAY_VMID, vmidToIp } from '../model/addressing';

/** The parts of Terraform's machine-readable plan (format 1.x) that cias reads. */
export interface TerraformPlanJson {
  readonly format_version: string;
  readonly terraform_version?: string;
  readonly resource_changes?: readonly ResourceChangeJson[];
  /** True when the plan stopped on an error (only possible for plans saved despite errors). */
  readonly errored?: boolean;
  /** False when some changes were deferred and a second plan/apply is needed. */
  readonly complete?: boolean;
}

export interface ResourceChangeJson {
  readonly address: string;
  readonly previous_address?: string;
  readonly module_address?: string;
  readonly mode: 'managed' | 'data';
  readonly type: string;
  readonly name: string;
  readonly index?: unknown;
  readonly change: {
    readonly actions: readonly string[];
    readonly before: unknown;
    readonly after: unknown;
    readonly after_unknown?: unknown;
    readonly before_sensitive?: unknown;
    readonly after_sensitive?: unknown;
    readonly replace_paths?: readonly (readonly (string | number)[])[];
  };
  readonly action_reason?: string;
}

export class PlanFormatError extends Error {}

/** Parses and shape-checks one `terraform show -json` document; `source` names it in errors. */
export function parseTerraformPlan(text: string, source: string): TerraformPlanJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PlanFormatError(`${source}: not JSON (${(error as Error).message}); expected the output of terraform show -json <planfile>`);
  }
  return asTerraformPlan(value, source);
}

export function asTerraformPlan(value: unknown, source: string): TerraformPlanJson {
  const fail = (what: string): never => {
    throw new PlanFormatError(`${source}: ${what}; expected the output of terraform show -json <planfile>`);
  };
  if (!isRecord(value)) return fail('not a JSON object');
  if (typeof value.format_version !== 'string') return fail('no format_version');
  if (!value.format_version.startsWith('1.')) return fail(`plan format ${value.format_version} is not 1.x`);
  if (!('planned_values' in value) && !('resource_changes' in value)) {
    return fail('no planned_values or resource_changes (is this terraform show -json of a state, not of a plan?)');
  }
  const changes = value.resource_changes ?? [];
  if (!Array.isArray(changes)) return fail('resource_changes is not a list');
  changes.forEach((change: unknown, i) => {
    const where = `resource_changes[${i}]`;
    if (!isRecord(change)) return fail(`${where} is not an object`);
    for (const key of ['address', 'type', 'name', 'mode'] as const) {
      if (typeof change[key] !== 'string') fail(`${where}.${key} is not a string`);
    }
    const inner = change.change;
    if (!isRecord(inner) || !Array.isArray(inner.actions) || !inner.actions.every((a) => typeof a === 'string')) {
      fail(`${where}.change.actions is not a list of strings`);
    }
  });
  return value as unknown as TerraformPlanJson;
}

/** One resource's planned action, folded the way `terraform plan` counts them. */
export type ActionKind = 'create' | 'update' | 'replace' | 'delete' | 'no-op' | 'read' | 'forget' | 'other';

export function actionKind(actions: readonly string[]): ActionKind {
  const key = actions.join(',');
  switch (key) {
    case 'create':
    case 'update':
    case 'delete':
    case 'no-op':
    case 'read':
    case 'forget':
      return key;
    case 'delete,create':
    case 'create,delete':
      return 'replace';
    default:
      return 'other';
  }
}

/** Kinds that change something (everything but no-op and data reads). */
export function isChange(kind: ActionKind): boolean {
  return kind !== 'no-op' && kind !== 'read';
}

/** Construct path components from a cdktf logical ID (hash suffix removed). */
export function constructPathOf(logicalId: string): string[] {
  const human = logicalId.replace(/_[0-9A-F]{8}$/, '');
  return human.split('_').filter((part) => part.length > 0);
}

/** Stack names cias writes, in the order an operator reads (and CI applies) them. */
export function compareStackNames(a: string, b: string): number {
  const rank = (name: string): [number, number, string] => {
    if (name === 'hosts') return [0, 0, name];
    if (name === 'gateway') return [1, 0, name];
    const vms = /^vms-e(\d+)$/.exec(name);
    if (vms) return [2, Number(vms[1]), name];
    return [3, 0, name];
  };
  const [ra, na, sa] = rank(a);
  const [rb, nb, sb] = rank(b);
  return ra - rb || na - nb || (sa < sb ? -1 : sa > sb ? 1 : 0);
}

/** What the summary needs from the cluster (a ClusterModel fits). */
export interface PlanClusterContext {
  readonly domain: string;
  readonly bootstrap: { readonly name: string };
  readonly nodes: readonly { readonly name: string; readonly ip: string }[];
  readonly retired: readonly { readonly ip: string; readonly hostname: string; readonly retiredOn?: string }[];
}

export interface StackPlan {
  /** Stack name, e.g. `hosts`, `gateway`, `vms-e10`. */
  readonly stack: string;
  readonly plan: TerraformPlanJson;
}

export interface ResourceRef {
  readonly stack: string;
  readonly address: string;
  readonly kind: ActionKind;
}

export interface NodePartChange {
  /** Construct path between the node and the resource, e.g. `keepalived` or `leave`. */
  readonly part: string;
  readonly kind: ActionKind;
}

export type ItemChange = 'added' | 'removed' | 'replaced' | 'changed' | 'forgotten';

export interface NodeChange {
  readonly name: string;
  readonly change: ItemChange;
  /** Its `leave/scenario5` resource is destroyed (or replaced): scenario 5 runs on the node. */
  readonly leaves: boolean;
  readonly isBootstrap: boolean;
  /** Only parts that change, in construct order. */
  readonly parts: readonly NodePartChange[];
  /** Internal IP: from the cluster when it lists the node, else from the name's last two labels. */
  readonly ip?: string;
}

export interface VmChange {
  /** Undefined when neither the plan nor the logical ID tells it. */
  readonly vmid?: number;
  readonly name?: string;
  readonly nodeBefore?: string;
  readonly nodeAfter?: string;
  readonly change: ItemChange;
  readonly isGateway: boolean;
  readonly stack: string;
  readonly address: string;
  /** Addresses of the resource before, when a `moved` block or a delete+create pair renamed it. */
  readonly previousAddress?: string;
  /** Top-level attributes whose value changes (or becomes unknown). */
  readonly changedAttributes: readonly string[];
  /** Attributes that force the replacement. */
  readonly replacedBecause: readonly string[];
  readonly automaticReboot?: boolean;
}

export interface StackCounts {
  readonly stack: string;
  readonly counts: Readonly<Record<ActionKind, number>>;
  readonly errored: boolean;
  readonly incomplete: boolean;
  readonly terraformVersion?: string;
}

export interface PlanChanges {
  readonly stacks: readonly StackCounts[];
  /** Sorted: nodes that leave, added, replaced, changed; then by name. */
  readonly nodes: readonly NodeChange[];
  /** Sorted: destroyed, replaced, added, changed, forgotten; then by VMID. */
  readonly vms: readonly VmChange[];
  /** Changing resources that are neither node parts nor VMs. */
  readonly others: readonly ResourceRef[];
}

/** Values the summary shows when an attribute is hidden or not yet known. */
export const SENSITIVE = '(sensitive)';
export const KNOWN_AFTER_APPLY = '(known after apply)';

export interface AnalyzeOptions {
  /** Stack whose first construct-path component is a Proxmox node name. @default 'hosts' */
  readonly hostsStack?: string;
  /** Stack holding VMID 100; its VM counts as the gateway even when the plan hides the VMID. @default 'gateway' */
  readonly gatewayStack?: string;
}

/** `pve-<rack>-<position>-<o3>-<o4>` (or `nas-…`), SPEC §2. */
const HOST_NAME = /^(pve|nas)-[a-z0-9-]+-(\d{1,3})-(\d{1,3})$/;
const PVE_NODE_NAME = /^pve-[a-z0-9-]+-\d{1,3}-\d{1,3}$/;
const LEAVE_PART = 'leave';
const LEAVE_RESOURCE = 'scenario5';

export function analyzePlans(stacks: readonly StackPlan[], cluster?: PlanClusterContext, options: AnalyzeOptions = {}): PlanChanges {
  const hostsStack = options.hostsStack ?? 'hosts';
  const gatewayStack = options.gatewayStack ?? 'gateway';
  const sorted = [...stacks].sort((a, b) => compareStackNames(a.stack, b.stack));
  const counts: StackCounts[] = [];
  const nodes: NodeChange[] = [];
  const vms: VmChange[] = [];
  const others: ResourceRef[] = [];
  for (const { stack, plan } of sorted) {
    const changes = (plan.resource_changes ?? []).filter((rc) => rc.mode === 'managed' || rc.mode === undefined);
    counts.push(countStack(stack, plan));
    const claimed = new Set<ResourceChangeJson>();
    if (stack === hostsStack) {
      for (const node of nodeChanges(changes, cluster, claimed)) nodes.push(node);
    }
    for (const rc of changes) {
      if (rc.type !== 'proxmox_vm_qemu') continue;
      claimed.add(rc);
      const vm = vmChange(stack, rc, stack === gatewayStack);
      if (vm) vms.push(vm);
    }
    for (const rc of changes) {
      const kind = actionKind(rc.change.actions);
      if (!claimed.has(rc) && isChange(kind)) others.push({ stack, address: rc.address, kind });
    }
  }
  return { stacks: counts, nodes: sortNodes(nodes), vms: sortVms(pairMovedVms(vms)), others };
}

function countStack(stack: string, plan: TerraformPlanJson): StackCounts {
  const counts: Record<ActionKind, number> = { create: 0, update: 0, replace: 0, delete: 0, 'no-op': 0, read: 0, forget: 0, other: 0 };
  for (const rc of plan.resource_changes ?? []) counts[actionKind(rc.change.actions)] += 1;
  return {
    stack,
    counts,
    errored: plan.errored === true,
    incomplete: plan.complete === false,
    terraformVersion: plan.terraform_version,
  };
}

function nodeChanges(changes: readonly ResourceChangeJson[], cluster: PlanClusterContext | undefined, claimed: Set<ResourceChangeJson>): NodeChange[] {
  const known = new Set(cluster?.nodes.map((n) => n.name) ?? []);
  for (const rc of changes) {
    const path = constructPathOf(rc.name);
    if (path.length === 3 && path[1] === LEAVE_PART && path[2] === LEAVE_RESOURCE) known.add(path[0]);
  }
  const byNode = new Map<string, { part: string; kind: ActionKind }[]>();
  for (const rc of changes) {
    const path = constructPathOf(rc.name);
    if (path.length < 2 || !(known.has(path[0]) || PVE_NODE_NAME.test(path[0]))) continue;
    claimed.add(rc);
    const part = path.length > 2 ? path.slice(1, -1).join('/') : path[1];
    const list = byNode.get(path[0]) ?? [];
    list.push({ part, kind: actionKind(rc.change.actions) });
    byNode.set(path[0], list);
  }
  const out: NodeChange[] = [];
  for (const [name, parts] of byNode) {
    const kinds = parts.map((p) => p.kind);
    const change = itemChangeOf(kinds);
    if (!change) continue;
    const leave = parts.find((p) => p.part === LEAVE_PART);
    out.push({
      name,
      change,
      leaves: leave !== undefined && (leave.kind === 'delete' || leave.kind === 'replace'),
      isBootstrap: cluster?.bootstrap.name === name,
      parts: parts.filter((p) => isChange(p.kind)),
      ip: cluster?.nodes.find((n) => n.name === name)?.ip ?? ipFromHostName(name),
    });
  }
  return out;
}

/** How a group of resources (one node's, or one VM) changes as a whole; undefined when it does not. */
function itemChangeOf(kinds: readonly ActionKind[]): ItemChange | undefined {
  const changing = kinds.filter(isChange);
  if (changing.length === 0) return undefined;
  if (kinds.every((k) => k === 'create')) return 'added';
  if (kinds.every((k) => k === 'delete')) return 'removed';
  if (kinds.every((k) => k === 'forget')) return 'forgotten';
  if (kinds.length === 1 && kinds[0] === 'replace') return 'replaced';
  return 'changed';
}

/** `pve-<rack>-<position>-<o3>-<o4>` → `10.254.<o3>.<o4>` (NAS: 10.253), per the SPEC §2 naming rule. */
export function ipFromHostName(name: string): string | undefined {
  const match = HOST_NAME.exec(name);
  if (!match) return undefined;
  return `10.${match[1] === 'pve' ? 254 : 253}.${Number(match[2])}.${Number(match[3])}`;
}

/** `pve.<rack>.<position>.<o3>-<o4>.<domain>` → `pve-<rack>-<position>-<o3>-<o4>`. */
export function nodeNameFromFqdn(fqdn: string, domain: string): string {
  const suffix = `.${domain}`;
  const host = fqdn.toLowerCase().endsWith(suffix.toLowerCase()) ? fqdn.slice(0, -suffix.length) : fqdn.split('.').slice(0, 4).join('.');
  return host.replace(/\./g, '-');
}

function vmChange(stack: string, rc: ResourceChangeJson, inGatewayStack: boolean): VmChange | undefined {
  const kind = actionKind(rc.change.actions);
  const change = itemChangeOf([kind]);
  if (!change) return undefined;
  const { before, after } = rc.change;
  const vmidValue = attribute(rc, 'vmid');
  const fromId = /(?:^|_)vm-(\d+)(?:_|$)/.exec(rc.name);
  let vmid = typeof vmidValue === 'number' ? vmidValue : fromId ? Number(fromId[1]) : undefined;
  if (vmid === undefined && inGatewayStack) vmid = GATEWAY_VMID;
  const nameValue = attribute(rc, 'name');
  const nodeOf = (side: 'before' | 'after'): string | undefined => {
    const value = attribute(rc, 'target_node', side) ?? attribute(rc, 'target_nodes', side);
    return Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : undefined;
  };
  const reboot = isRecord(after) ? after.automatic_reboot : undefined;
  return {
    vmid,
    name: typeof nameValue === 'string' ? nameValue : undefined,
    nodeBefore: before === null ? undefined : nodeOf('before'),
    nodeAfter: after === null ? undefined : nodeOf('after'),
    change,
    isGateway: vmid === GATEWAY_VMID,
    stack,
    address: rc.address,
    previousAddress: rc.previous_address,
    changedAttributes: kind === 'update' || kind === 'replace' ? changedAttributes(rc) : [],
    replacedBecause: [...new Set((rc.change.replace_paths ?? []).map((path) => String(path[0])))].sort(),
    automaticReboot: typeof reboot === 'boolean' ? reboot : undefined,
  };
}

/**
 * A top-level attribute as the summary shows it: the after value (before value for a destroy), or
 * SENSITIVE / KNOWN_AFTER_APPLY; strings and numbers only pass through.
 */
function attribute(rc: ResourceChangeJson, key: string, side?: 'before' | 'after'): unknown {
  const { before, after } = rc.change;
  const useAfter = side === 'after' || (side === undefined && after !== null && after !== undefined);
  const values = useAfter ? after : before;
  const sensitive = useAfter ? rc.change.after_sensitive : rc.change.before_sensitive;
  if (sensitive === true || (isRecord(sensitive) && sensitive[key] === true)) return SENSITIVE;
  const unknown = rc.change.after_unknown;
  if (useAfter && (unknown === true || (isRecord(unknown) && unknown[key] === true))) return KNOWN_AFTER_APPLY;
  return isRecord(values) ? values[key] : undefined;
}

/** Attributes with a concrete new value first; only-unknown ones when nothing concrete changes. */
function changedAttributes(rc: ResourceChangeJson): string[] {
  const before = isRecord(rc.change.before) ? rc.change.before : {};
  const after = isRecord(rc.change.after) ? rc.change.after : {};
  const unknown = isRecord(rc.change.after_unknown) ? rc.change.after_unknown : {};
  const concrete = Object.keys(after).filter((key) => unknown[key] !== true && JSON.stringify(before[key] ?? null) !== JSON.stringify(after[key] ?? null));
  if (concrete.length > 0) return concrete.sort();
  return Object.keys(unknown).filter((key) => unknown[key] === true && key in before && key !== 'id').sort();
}

/** A VMID destroyed under one address and created under another is one replaced VM. */
function pairMovedVms(vms: readonly VmChange[]): VmChange[] {
  const removedByVmid = new Map<number, VmChange>();
  for (const vm of vms) {
    if (vm.change === 'removed' && vm.vmid !== undefined && !removedByVmid.has(vm.vmid)) removedByVmid.set(vm.vmid, vm);
  }
  const consumed = new Set<VmChange>();
  const out: VmChange[] = [];
  for (const vm of vms) {
    const gone = vm.change === 'added' && vm.vmid !== undefined ? removedByVmid.get(vm.vmid) : undefined;
    if (gone && !consumed.has(gone)) {
      consumed.add(gone);
      out.push({
        ...vm,
        change: 'replaced',
        previousAddress: gone.stack === vm.stack ? gone.address : `${gone.stack}: ${gone.address}`,
        nodeBefore: gone.nodeBefore,
        replacedBecause: [],
      });
    } else out.push(vm);
  }
  return out.filter((vm) => !consumed.has(vm));
}

/** Review order: what destroys first. */
const CHANGE_ORDER: Record<ItemChange, number> = { removed: 0, replaced: 1, added: 2, changed: 3, forgotten: 4 };

function sortNodes(nodes: NodeChange[]): NodeChange[] {
  const rank = (n: NodeChange) => (n.leaves ? -1 : CHANGE_ORDER[n.change]);
  return nodes.sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function sortVms(vms: VmChange[]): VmChange[] {
  return vms.sort((a, b) => CHANGE_ORDER[a.change] - CHANGE_ORDER[b.change] || (a.vmid ?? Infinity) - (b.vmid ?? Infinity) || (a.address < b.address ? -1 : 1));
}

/** A created node or VM whose address or hostname is listed under `retired:`. */
export interface RetiredReuse {
  readonly what: string;
  readonly ip: string;
  readonly retired: { readonly ip: string; readonly hostname: string; readonly retiredOn?: string };
}

export function retiredReuses(changes: PlanChanges, cluster: PlanClusterContext): RetiredReuse[] {
  const out: RetiredReuse[] = [];
  const retiredByName = new Map(cluster.retired.map((r) => [nodeNameFromFqdn(r.hostname, cluster.domain), r]));
  for (const node of changes.nodes) {
    if (node.change !== 'added') continue;
    const hit = cluster.retired.find((r) => r.ip === node.ip) ?? retiredByName.get(node.name);
    if (hit) out.push({ what: `node \`${node.name}\``, ip: node.ip ?? hit.ip, retired: hit });
  }
  for (const vm of changes.vms) {
    if (vm.change !== 'added' || vm.vmid === undefined) continue;
    const ip = vmidToIp(vm.vmid);
    const hit = ip ? cluster.retired.find((r) => r.ip === ip) : undefined;
    if (ip && hit) out.push({ what: `VM ${vm.vmid}`, ip, retired: hit });
  }
  return out;
}

/** Nodes that leave but whose address is not listed under `retired:` yet. */
export function unretiredLeavers(changes: PlanChanges, cluster: PlanClusterContext): NodeChange[] {
  const retiredNames = new Set(cluster.retired.map((r) => nodeNameFromFqdn(r.hostname, cluster.domain)));
  const retiredIps = new Set(cluster.retired.map((r) => r.ip));
  return changes.nodes.filter((n) => n.leaves && n.change === 'removed' && !retiredNames.has(n.name) && !(n.ip && retiredIps.has(n.ip)));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
