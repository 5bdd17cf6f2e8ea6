/**
 * Markdown summary of the cias stacks' Terraform plans, sized for one pull-request comment: what
 * happens to nodes and VMs, counts per stack, and loud alerts for what loses data or takes a node out
 * (the gateway VM, tenant VMs destroyed or re-created, nodes leaving through scenario 5, the bootstrap
 * node, retired addresses coming back). Pure: plans in, text out.
 */
import {
  ActionKind,
  analyzePlans,
  KNOWN_AFTER_APPLY,
  NodeChange,
  PlanChanges,
  PlanClusterContext,
  retiredReuses,
  SENSITIVE,
  StackPlan,
  unretiredLeavers,
  VmChange,
} from './plan-summary-changes';

/** First line of every summary; CI finds its previous comment by it. */
export const PLAN_SUMMARY_MARKER = '<!-- cias-plan -->';
/** GitHub refuses issue and pull-request comments longer than this. */
export const GITHUB_COMMENT_LIMIT = 65536;

export interface FailedStackPlan {
  readonly stack: string;
  /** Output of the failed terraform command; the summary shows its last lines. */
  readonly log: string;
}

export interface PlanSummaryParams {
  /** One parsed `terraform show -json` plan per stack. */
  readonly stacks: readonly StackPlan[];
  /**
   * The cluster the plans were made from: names the bootstrap node and enables the retired-address
   * checks. @default none: those checks are left out and the summary says so
   */
  readonly cluster?: PlanClusterContext;
  /** Stacks whose plan failed; each gets an alert and the end of its log. @default [] */
  readonly failed?: readonly FailedStackPlan[];
  /** Rows per table and items per alert before "+N more". @default 50 */
  readonly maxRows?: number;
  /** Upper bound of the whole text; rows are cut further to stay under it. @default 65000 */
  readonly maxChars?: number;
  /** Heading. @default 'cias plan' */
  readonly title?: string;
  /** Line under the heading, e.g. which commit was planned. @default none */
  readonly subtitle?: string;
  /** Stack whose construct paths start with node names. @default 'hosts' */
  readonly hostsStack?: string;
  /** Stack holding VMID 100. @default 'gateway' */
  readonly gatewayStack?: string;
}

const LOG_TAIL_LINES = 30;
const LOG_TAIL_CHARS = 3000;
const MIN_ROWS = 3;

export function renderPlanSummary(params: PlanSummaryParams): string {
  const changes = analyzePlans(params.stacks, params.cluster, { hostsStack: params.hostsStack, gatewayStack: params.gatewayStack });
  const maxChars = Math.min(params.maxChars ?? 65000, GITHUB_COMMENT_LIMIT);
  let rows = Math.max(params.maxRows ?? 50, 1);
  let text = compose(params, changes, rows);
  while (text.length > maxChars && rows > MIN_ROWS) {
    rows = Math.max(MIN_ROWS, Math.floor(rows / 2));
    text = compose(params, changes, rows);
  }
  if (text.length > maxChars) {
    const note = '\n\n… summary cut to fit one comment; the workflow log has every plan.\n';
    text = text.slice(0, Math.max(0, maxChars - note.length)) + note;
  }
  return text;
}

function compose(params: PlanSummaryParams, changes: PlanChanges, rows: number): string {
  const failed = params.failed ?? [];
  const sections = [
    `${PLAN_SUMMARY_MARKER}\n## ${params.title ?? 'cias plan'}${params.subtitle ? `\n\n${params.subtitle}` : ''}`,
    headline(changes, failed.length),
    alert('CAUTION', cautions(params, changes), rows),
    alert('WARNING', warnings(params, changes), rows),
    ...failed.map(failureLog),
    nodeTable(changes.nodes, rows),
    vmTable(changes.vms, rows),
    stackTable(changes, failed),
    otherResources(changes, rows),
    params.cluster ? '' : '_No cluster.yaml given: bootstrap-node and retired-address checks were skipped._',
  ];
  return `${sections.filter((s) => s.length > 0).join('\n\n')}\n`;
}

const TOTAL_KINDS: readonly [ActionKind, string][] = [
  ['create', '➕ %d to create'],
  ['update', '✏️ %d to update'],
  ['replace', '🔁 %d to replace'],
  ['delete', '➖ %d to destroy'],
  ['forget', '%d to forget'],
  ['other', '%d with other actions'],
];

function headline(changes: PlanChanges, failedCount: number): string {
  const stackCount = changes.stacks.length + failedCount;
  const parts = TOTAL_KINDS.map(([kind, text]) => [changes.stacks.reduce((sum, s) => sum + s.counts[kind], 0), text] as const)
    .filter(([n]) => n > 0)
    .map(([n, text]) => text.replace('%d', String(n)));
  const stacks = `**${stackCount} stack${stackCount === 1 ? '' : 's'}**`;
  if (parts.length > 0) return `${stacks}: ${parts.join(' · ')}`;
  if (failedCount > 0) return `${stacks}: no changes in the stacks that could be planned.`;
  return `${stacks}: no changes. The infrastructure matches the configuration.`;
}

function cautions(params: PlanSummaryParams, changes: PlanChanges): string[] {
  const out: string[] = [];
  for (const f of params.failed ?? []) out.push(`**terraform plan failed for stack ${code(f.stack)}**: nothing below covers it (log at the end of the alerts).`);
  for (const s of changes.stacks) {
    if (s.errored) out.push(`**The plan of stack ${code(s.stack)} stopped on an error**: it is incomplete; fix the error and plan again.`);
  }
  for (const node of changes.nodes.filter((n) => n.leaves)) {
    const master = node.isBootstrap ? ' **It is the bootstrap node (the first master).**' : '';
    const how = node.change === 'removed' ? 'is destroyed' : 'is replaced (destroyed, then created again)';
    out.push(
      `**Node ${code(node.name)} leaves the cluster.** Its ${code('leave/scenario5')} resource ${how}, so scenario 5 runs on it: ` +
        `its VMs migrate away, it hands over the master role if it holds it, leaves the PVE cluster and powers off.${master}`,
    );
  }
  for (const node of changes.nodes.filter((n) => n.isBootstrap && !n.leaves)) {
    const destroyed = node.parts.filter((p) => p.kind === 'delete').map((p) => p.part);
    if (destroyed.length > 0) out.push(`**Destroys resources of the bootstrap node ${code(node.name)}** (the first master): ${list(destroyed)}.`);
  }
  const gatewayFirst = [...changes.vms.filter((v) => v.isGateway), ...changes.vms.filter((v) => !v.isGateway)];
  for (const vm of gatewayFirst) {
    if (vm.change !== 'removed' && vm.change !== 'replaced') continue;
    const what = vm.isGateway ? `the gateway VM (VMID ${vm.vmid} ${code(vm.name ?? 'cias-router')})` : `VM ${vmLabel(vm)}`;
    const where = vm.nodeBefore ? ` on ${code(vm.nodeBefore)}` : '';
    const impact = vm.isGateway
      ? 'NAT, DHCP, DNS, port forwards and the reverse proxy stop for every tenant until it is back, and its Zentyal state is lost unless restored from the VMID 100 backup.'
      : 'its disks and everything on them are lost unless restored from a backup.';
    if (vm.change === 'removed') out.push(`**Destroys ${what}**${where}: ${impact}`);
    else {
      const because = vm.replacedBecause.length > 0 ? ` Forced by: ${list(vm.replacedBecause)}.` : '';
      const moved = vm.previousAddress ? ` Its resource address changed (was ${code(vm.previousAddress)}).` : '';
      out.push(`**Re-creates ${what}**${where} (destroyed, then created again): ${impact}${because}${moved}`);
    }
  }
  if (params.cluster) {
    for (const reuse of retiredReuses(changes, params.cluster)) {
      const when = reuse.retired.retiredOn ? `, retired ${reuse.retired.retiredOn}` : '';
      out.push(
        `**${reuse.what} reuses a retired address**: ${code(reuse.ip)} (${code(reuse.retired.hostname)}${when}). ` +
          'Proxmox breaks when a hostname or address comes back; give it the next free address.',
      );
    }
  }
  return out;
}

function warnings(params: PlanSummaryParams, changes: PlanChanges): string[] {
  const out: string[] = [];
  for (const node of changes.nodes.filter((n) => n.isBootstrap && !n.leaves)) {
    const rerun = node.parts.filter((p) => p.kind === 'replace').map((p) => p.part);
    if (rerun.length > 0) out.push(`Re-runs pushes on the bootstrap node ${code(node.name)} (the first master): ${list(rerun)}.`);
  }
  for (const vm of changes.vms.filter((v) => v.isGateway && v.change === 'changed')) {
    const reboot = vm.automaticReboot === false ? '' : ' The provider reboots it when a changed setting needs a reboot (automatic_reboot).';
    out.push(`Changes the gateway VM (VMID ${vm.vmid}) in place: ${list(vm.changedAttributes)}.${reboot}`);
  }
  for (const vm of changes.vms.filter((v) => v.change === 'forgotten')) {
    out.push(`VM ${vmLabel(vm)} leaves Terraform's state but keeps running: cias no longer manages it.`);
  }
  for (const s of changes.stacks.filter((s) => s.incomplete && !s.errored)) {
    out.push(`The plan of stack ${code(s.stack)} is incomplete (deferred changes): apply it, then plan again.`);
  }
  for (const s of changes.stacks.filter((s) => s.counts.other > 0)) {
    out.push(`Stack ${code(s.stack)} has ${s.counts.other} resource change(s) with actions this summary does not know; read the plan.`);
  }
  if (params.cluster) {
    for (const node of unretiredLeavers(changes, params.cluster)) {
      out.push(`${code(node.name)}${node.ip ? ` (${code(node.ip)})` : ''} leaves but is not listed under ${code('retired:')}; add it so its address and hostname are never given out again.`);
    }
  }
  return out;
}

function alert(kind: 'CAUTION' | 'WARNING', items: readonly string[], rows: number): string {
  if (items.length === 0) return '';
  const shown = items.slice(0, rows).map((item) => `> - ⚠️ ${item}`);
  if (items.length > rows) shown.push(`> - …and ${items.length - rows} more`);
  return [`> [!${kind}]`, ...shown].join('\n');
}

function failureLog(failure: FailedStackPlan): string {
  const clean = failure.log.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '').trimEnd();
  let tail = clean.split('\n').slice(-LOG_TAIL_LINES).join('\n');
  if (tail.length > LOG_TAIL_CHARS) tail = `…${tail.slice(-LOG_TAIL_CHARS)}`;
  const longestTicks = Math.max(2, ...(tail.match(/`+/g) ?? []).map((t) => t.length));
  const fence = '`'.repeat(longestTicks + 1);
  return `<details><summary>terraform plan output of <code>${escapeHtml(failure.stack)}</code> (last lines)</summary>\n\n${fence}text\n${tail || '(no output)'}\n${fence}\n</details>`;
}

const NODE_CHANGE_TEXT: Record<NodeChange['change'], string> = {
  added: '➕ added',
  removed: '➖ removed',
  replaced: '🔁 replaced',
  changed: '✏️ changed',
  forgotten: 'forgotten',
};

const PART_VERBS: readonly [ActionKind, string][] = [
  ['create', 'creates'],
  ['replace', 're-runs'],
  ['update', 'updates'],
  ['delete', 'destroys'],
  ['forget', 'forgets'],
  ['other', 'other actions on'],
];

function nodeTable(nodes: readonly NodeChange[], rows: number): string {
  if (nodes.length === 0) return '';
  const body = nodes.slice(0, rows).map((node) => {
    const name = `${code(node.name)}${node.isBootstrap ? ' (bootstrap)' : ''}`;
    const change = node.leaves ? '➖ **leaves** (scenario 5)' : NODE_CHANGE_TEXT[node.change];
    const count = `all ${node.parts.length} resource${node.parts.length === 1 ? '' : 's'}`;
    const what =
      node.change === 'added'
        ? `creates ${count}`
        : node.change === 'removed'
          ? `destroys ${count}`
          : PART_VERBS.map(([kind, verb]) => [verb, node.parts.filter((p) => p.kind === kind).map((p) => p.part)] as const)
              .filter(([, parts]) => parts.length > 0)
              .map(([verb, parts]) => `${verb} ${list(parts)}`)
              .join('; ');
    return row([name, change, what]);
  });
  return ['### Nodes', '', row(['node', 'change', 'what']), row(['---', '---', '---']), ...body, ...more(nodes.length, rows, 3)].join('\n');
}

const VM_CHANGE_TEXT: Record<VmChange['change'], string> = {
  added: '➕ created',
  removed: '➖ **destroyed**',
  replaced: '🔁 **re-created**',
  changed: '✏️ changed',
  forgotten: 'forgotten (keeps running)',
};

function vmTable(vms: readonly VmChange[], rows: number): string {
  if (vms.length === 0) return '';
  const body = vms.slice(0, rows).map((vm) => {
    const vmid = vm.vmid === undefined ? '?' : vm.isGateway ? `${vm.vmid} (gateway)` : String(vm.vmid);
    const node =
      vm.nodeBefore && vm.nodeAfter && vm.nodeBefore !== vm.nodeAfter
        ? `${code(vm.nodeBefore)} → ${code(vm.nodeAfter)}`
        : code(vm.nodeAfter ?? vm.nodeBefore ?? '');
    const what: string[] = [];
    if (vm.change === 'replaced' && vm.replacedBecause.length > 0) what.push(`forced by ${list(vm.replacedBecause)}`);
    else if (vm.changedAttributes.length > 0) what.push(list(vm.changedAttributes));
    if (vm.previousAddress) what.push(`${vm.change === 'replaced' ? 'address changed, ' : 'moved, '}was ${code(vm.previousAddress)}`);
    return row([vmid, vm.name ? code(vm.name) : '', node, VM_CHANGE_TEXT[vm.change], what.join('; ')]);
  });
  const header = [row(['VMID', 'name', 'node', 'change', 'what']), row(['---:', '---', '---', '---', '---'])];
  return ['### VMs', '', ...header, ...body, ...more(vms.length, rows, 5)].join('\n');
}

function stackTable(changes: PlanChanges, failed: readonly FailedStackPlan[]): string {
  if (changes.stacks.length === 0 && failed.length === 0) return '';
  const extra = changes.stacks.some((s) => s.counts.forget + s.counts.other + s.counts.read > 0);
  const header = ['stack', '➕ create', '✏️ update', '🔁 replace', '➖ delete', 'no-op', ...(extra ? ['other'] : [])];
  const body = changes.stacks.map((s) => {
    const c = s.counts;
    const cells = [code(s.stack), c.create, c.update, c.replace, c.delete, c['no-op']].map(String);
    return row([...cells, ...(extra ? [String(c.forget + c.other + c.read)] : [])]);
  });
  for (const f of failed) body.push(row([code(f.stack), '**plan failed**', '', '', '', '', ...(extra ? [''] : [])]));
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return ['### Resources per stack', '', row(header), row(align), ...body].join('\n');
}

function otherResources(changes: PlanChanges, rows: number): string {
  if (changes.others.length === 0) return '';
  const body = changes.others.slice(0, rows).map((r) => row([code(r.stack), code(r.address), r.kind]));
  return [
    `<details><summary>Other changing resources (${changes.others.length})</summary>`,
    '',
    row(['stack', 'resource', 'action']),
    row(['---', '---', '---']),
    ...body,
    ...more(changes.others.length, rows, 3),
    '',
    '</details>',
  ].join('\n');
}

function more(total: number, shown: number, columns: number): string[] {
  return total > shown ? [row([`+${total - shown} more`, ...Array<string>(columns - 1).fill('')])] : [];
}

function vmLabel(vm: VmChange): string {
  return `${vm.vmid ?? '?'}${vm.name ? ` ${code(vm.name)}` : ''}`;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

const MAX_NAMES = 6;

/** Up to six names as code, then "+N". */
function list(names: readonly string[]): string {
  const shown = names.slice(0, MAX_NAMES).map(code).join(', ');
  return names.length > MAX_NAMES ? `${shown} +${names.length - MAX_NAMES}` : shown;
}

const MAX_CODE_LENGTH = 80;

/** A code span safe inside a table cell: one line, pipes escaped, backticks fenced, long text cut. */
export function code(text: string): string {
  if (text === SENSITIVE || text === KNOWN_AFTER_APPLY) return `_${text}_`;
  if (text.length === 0) return '';
  let flat = text.replace(/\s+/g, ' ');
  if (flat.length > MAX_CODE_LENGTH) flat = `${flat.slice(0, MAX_CODE_LENGTH - 1)}…`;
  flat = flat.replace(/\|/g, '\\|');
  const ticks = Math.max(0, ...(flat.match(/`+/g) ?? []).map((t) => t.length));
  const fence = '`'.repeat(ticks + 1);
  const pad = ticks > 0 ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
