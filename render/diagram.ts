/**
 * The topology picture of a cluster (`cias diagram`): one standalone SVG that reads the same in a
 * browser and in a GitHub PR comment. From top to bottom: the WAN, the master role's floating IPs,
 * the gateway (VMID 100) with its WAN addresses, the NAS, the LAN, the Proxmox nodes grouped by rack
 * (bootstrap and never-master nodes marked) and one row per VM-management IP summarising its VMs.
 *
 * It has to stay readable and small for the largest cluster the spec allows (1,270 nodes, 124,245
 * VMs): racks and nodes per rack are capped ("+K more"), VMs are only ever counted per index (at
 * most 251 rows), never drawn one by one.
 */
import { GATEWAY_VMID, LAN, MAX_EXTERNAL_INDEX, MAX_RACK_ROW, MAX_SLOT, VMS_PER_EXTERNAL_INDEX } from '../model/addressing';
import { ClusterModel, NodeModel } from '../model/cluster';
import { isIpv4, subnetBounds } from '../model/ipv4';
import {
  FONT_STACK,
  charsThatFit,
  escapeXml,
  fitText,
  formatCount,
  plural,
  px,
  svgBadge,
  svgLine,
  svgRect,
  svgText,
  textWidth,
} from './diagram-svg';

export interface TopologySvgOptions {
  /** Width of the picture in pixels, 960..4000. @default 1280 */
  readonly width?: number;
  /** Racks drawn; the others are listed by name and node count. @default 8 */
  readonly maxRacks?: number;
  /** Nodes drawn per rack before "+K more". The bootstrap node is always among them. @default 8 */
  readonly maxNodesPerRack?: number;
  /** NAS listed in the NAS box before "+K more". @default 4 */
  readonly maxNas?: number;
  /** VM-management IPs listed in the gateway box (all are in the VM table). @default 4 */
  readonly maxGatewayVmIps?: number;
  /** Heading of the picture. @default '<cluster name> topology — <domain>' */
  readonly title?: string;
}

const DEFAULTS = { width: 1280, maxRacks: 8, maxNodesPerRack: 8, maxNas: 4, maxGatewayVmIps: 4 } as const;

const MARGIN = 24;
const GAP = 16;
const LINE = 17;

const COLOR = {
  text: '#1f2328',
  muted: '#57606a',
  wan: { fill: '#fff8c5', stroke: '#d4a72c' },
  lan: { fill: '#ddf4ff', stroke: '#54aeff' },
  master: { fill: '#fbefff', stroke: '#8250df' },
  gateway: { fill: '#dafbe1', stroke: '#2da44e' },
  nas: { fill: '#fff1e5', stroke: '#fb8f44' },
  rack: { fill: '#f6f8fa', stroke: '#d0d7de' },
  node: { fill: '#ffffff', stroke: '#8c959f' },
  bootstrapNode: { fill: '#fff8c5', stroke: '#bf8700', strokeWidth: 2.5 },
  weakNode: { fill: '#f6f8fa', stroke: '#8c959f', dash: '5 3' },
  bootstrapBadge: '#9a6700',
  weakBadge: '#6e7781',
  gatewayBadge: '#1a7f37',
  barEmpty: '#eaeef2',
  barUsed: '#2da44e',
  barFull: '#bc4c00',
  stripe: '#f6f8fa',
} as const;

export const BOOTSTRAP_MARK = 'BOOTSTRAP MASTER';
export const NEVER_MASTER_MARK = 'NEVER MASTER';
export const GATEWAY_HOST_MARK = `GATEWAY VM ${GATEWAY_VMID}`;

interface Section {
  readonly svg: string;
  readonly height: number;
}

interface Frame {
  readonly model: ClusterModel;
  readonly options: Required<Omit<TopologySvgOptions, 'title'>>;
  /** Left edge and width of the drawable area. */
  readonly left: number;
  readonly inner: number;
}

export function renderTopologySvg(model: ClusterModel, options: TopologySvgOptions = {}): string {
  const resolved = resolveOptions(options);
  const frame: Frame = { model, options: resolved, left: MARGIN, inner: resolved.width - 2 * MARGIN };
  const title = options.title ?? `${model.name} topology — ${model.domain}`;

  const parts: string[] = [];
  let y = MARGIN;
  const place = (section: Section, gapAfter = GAP): void => {
    parts.push(`<g transform="translate(0 ${px(y)})">${section.svg}</g>`);
    y += section.height + gapAfter;
  };
  place(headerSection(frame, title), 8);
  place(networkSection(frame), 28);
  place(racksSection(frame), 28);
  place(vmIndexSection(frame), 24);
  place(legendSection(frame), 0);
  const height = Math.ceil(y + MARGIN);

  const width = resolved.width;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="${escapeXml(FONT_STACK)}" font-size="12" fill="${COLOR.text}">\n` +
    `<title>${escapeXml(title)}</title>\n` +
    // Opaque background: GitHub's dark theme would otherwise show dark text on a dark page.
    `${svgRect(0, 0, width, height, { fill: '#ffffff', stroke: 'none', radius: 0 })}\n` +
    `${parts.join('\n')}\n</svg>\n`
  );
}

function resolveOptions(options: TopologySvgOptions): Frame['options'] {
  const resolved = {
    width: options.width ?? DEFAULTS.width,
    maxRacks: options.maxRacks ?? DEFAULTS.maxRacks,
    maxNodesPerRack: options.maxNodesPerRack ?? DEFAULTS.maxNodesPerRack,
    maxNas: options.maxNas ?? DEFAULTS.maxNas,
    maxGatewayVmIps: options.maxGatewayVmIps ?? DEFAULTS.maxGatewayVmIps,
  };
  const problems: string[] = [];
  if (!Number.isInteger(resolved.width) || resolved.width < 960 || resolved.width > 4000) problems.push(`width ${resolved.width} is not an integer in 960..4000`);
  for (const key of ['maxRacks', 'maxNodesPerRack', 'maxNas', 'maxGatewayVmIps'] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1) problems.push(`${key} ${resolved[key]} is not an integer ≥ 1`);
  }
  if (problems.length > 0) throw new RangeError(`invalid diagram options: ${problems.join('; ')}`);
  return resolved;
}

function headerSection({ model, left, inner }: Frame, title: string): Section {
  const racks = new Set(model.nodes.map((n) => n.rack)).size;
  const capable = model.nodes.filter((n) => n.canBeMaster).length;
  const indices = model.wan.vmMgmtIps.length;
  const summary =
    `${plural(model.nodes.length, 'node')} in ${plural(racks, 'rack')} (${formatCount(capable)} master-capable, ` +
    `${formatCount(model.nodes.length - capable)} never master) · ${model.nas.length} NAS · ` +
    `${plural(model.vms.length, 'tenant VM')} on ${plural(indices, 'VM-management IP')} ` +
    `(capacity ${formatCount(indices * VMS_PER_EXTERNAL_INDEX)})`;
  return {
    svg: svgText(left, 20, title, inner, { size: 20, bold: true }) + svgText(left, 42, summary, inner, { fill: COLOR.muted }),
    height: 48,
  };
}

/** WAN band, the three boxes that sit between WAN and LAN (master role, gateway, NAS), LAN band. */
function networkSection(frame: Frame): Section {
  const { model, left, inner } = frame;
  const bandHeight = 28;
  const wan = model.wan;
  const wanSubnet = isIpv4(wan.gateway) ? `${subnetBounds(wan.gateway, wan.prefixLength).network}/${wan.prefixLength}` : `netmask ${wan.netmask}`;
  const wanLabel = `WAN (external) ${wanSubnet} · default gateway ${wan.gateway}`;
  const lanLabel =
    `LAN (internal) ${LAN.network}/${LAN.prefix} · gateway ${LAN.gatewayIp} · nodes 10.254.{1..${MAX_RACK_ROW}}.{1..${MAX_SLOT}} · ` +
    `NAS 10.253.{1..${MAX_RACK_ROW}}.{1..${MAX_SLOT}} · VMs 10.E.a.b · DHCP ${LAN.dhcpPoolFirst}–${LAN.dhcpPoolLast}`;

  const boxTop = bandHeight + 26;
  const widths = [0.29, 0.42, 0.29].map((share) => (inner - 2 * GAP) * share);
  const boxes = [masterBox(frame), gatewayBox(frame), nasBox(frame)];
  const boxHeight = Math.max(...boxes.map((b) => b.lines.length)) * LINE + 34;
  const lanTop = boxTop + boxHeight + 26;

  const parts = [
    svgRect(left, 0, inner, bandHeight, COLOR.wan),
    svgText(left + 10, 19, wanLabel, inner - 20, { bold: true }),
    svgRect(left, lanTop, inner, bandHeight, COLOR.lan),
    svgText(left + 10, lanTop + 19, lanLabel, inner - 20, { bold: true }),
  ];
  let x = left;
  boxes.forEach((box, i) => {
    const width = widths[i];
    const centre = x + width / 2;
    // The NAS sits on the LAN only: the gateway forwards its management IP to it.
    if (box.onWan) parts.push(svgLine(centre, bandHeight, centre, boxTop, box.style.stroke));
    parts.push(svgLine(centre, boxTop + boxHeight, centre, lanTop, box.style.stroke));
    parts.push(svgRect(x, boxTop, width, boxHeight, { ...box.style, strokeWidth: 1.5 }));
    parts.push(svgText(x + 10, boxTop + 20, box.title, width - 20, { bold: true, size: 13 }));
    const labelChars = Math.max(0, ...box.lines.map((line) => (line.value === undefined ? 0 : Array.from(line.text).length + 2)));
    const valueX = x + 10 + labelChars * (width - 20) / charsThatFit(width - 20, 12);
    box.lines.forEach((line, n) => {
      const baseline = boxTop + 40 + n * LINE;
      const fill = line.muted ? COLOR.muted : undefined;
      if (line.value === undefined) parts.push(svgText(x + 10, baseline, line.text, width - 20, { fill }));
      else parts.push(svgText(x + 10, baseline, line.text, valueX - x - 10, { fill }), svgText(valueX, baseline, line.value, x + width - 10 - valueX, { fill }));
    });
    x += width + GAP;
  });
  return { svg: parts.join(''), height: lanTop + bandHeight };
}

interface BoxLine {
  readonly text: string;
  /** Drawn in a second column, aligned across the box's lines. */
  readonly value?: string;
  readonly muted?: boolean;
}

interface InfoBox {
  readonly title: string;
  readonly lines: readonly BoxLine[];
  readonly style: { readonly fill: string; readonly stroke: string };
  readonly onWan: boolean;
}

function masterBox({ model }: Frame): InfoBox {
  const capable = model.nodes.filter((n) => n.canBeMaster).length;
  const keepalived = model.keepalived;
  return {
    title: 'Master role (keepalived VIPs)',
    style: COLOR.master,
    onWan: true,
    lines: [
      { text: LAN.masterVip, value: LAN.masterVipName },
      { text: model.wan.masterIp, value: 'master external IP' },
      { text: `first master: ${model.bootstrap.name}` },
      { text: `${formatCount(capable)} of ${plural(model.nodes.length, 'node')} can be master`, muted: true },
      { text: `VRRP id ${keepalived.virtualRouterId} · ${keepalived.unicast ? 'unicast' : 'multicast'}`, muted: true },
    ],
  };
}

function gatewayBox({ model, options }: Frame): InfoBox {
  const gateway = model.gateway;
  const vmIps = model.wan.vmMgmtIps;
  const shown = vmIps.slice(0, options.maxGatewayVmIps);
  const hidden = vmIps.length - shown.length;
  const row = (label: string, ip: string): BoxLine => ({ text: label, value: ip });
  return {
    title: `${gateway.name} · VMID ${gateway.vmid} · Zentyal KVM`,
    style: COLOR.gateway,
    onWan: true,
    lines: [
      { text: `on ${gateway.node} · LAN ${gateway.lanIp}/${LAN.prefix}`, muted: true },
      row('Proxmox-mgmt', model.wan.proxmoxMgmtIp),
      row('NAS-mgmt', model.wan.nasMgmtIp),
      ...shown.map((e) => row(`VM-mgmt E=${e.index}`, e.ip)),
      ...(hidden > 0 ? [{ text: `+${formatCount(hidden)} more VM-mgmt IPs (table below)`, muted: true }] : []),
    ],
  };
}

function nasBox({ model, options }: Frame): InfoBox {
  const shown = model.nas.slice(0, options.maxNas);
  const hidden = model.nas.length - shown.length;
  const lines: BoxLine[] = [];
  for (const nas of shown) {
    lines.push({ text: nas.name });
    lines.push({ text: `  ${nas.ip} · ${nas.content.join(', ')}`, muted: true });
  }
  if (hidden > 0) lines.push({ text: `+${formatCount(hidden)} more NAS`, muted: true });
  if (model.nas.length === 0) lines.push({ text: 'no NAS configured', muted: true });
  return { title: `NAS (NFS, via NAS-mgmt) · ${model.nas.length}`, style: COLOR.nas, onWan: false, lines };
}

interface Rack {
  readonly name: string;
  readonly nodes: readonly NodeModel[];
}

/** Racks in order of first appearance, the bootstrap node's rack first: it is where the cluster starts. */
function racksOf(model: ClusterModel): Rack[] {
  const byName = new Map<string, NodeModel[]>();
  for (const node of model.nodes) {
    const list = byName.get(node.rack);
    if (list) list.push(node);
    else byName.set(node.rack, [node]);
  }
  const racks = [...byName].map(([name, nodes]) => ({ name, nodes }));
  const first = racks.findIndex((r) => r.name === model.bootstrap.rack);
  if (first > 0) racks.unshift(...racks.splice(first, 1));
  return racks;
}

/** The first `cap` nodes in file order, with the bootstrap node swapped in when it would be cut. */
function drawnNodes(rack: Rack, bootstrap: NodeModel, cap: number): NodeModel[] {
  const drawn = rack.nodes.slice(0, cap);
  const bootstrapHidden = rack.nodes.indexOf(bootstrap) >= cap;
  if (bootstrapHidden) drawn[drawn.length - 1] = bootstrap;
  return drawn;
}

const NODE_HEIGHT = 56;
const NODE_GAP = 6;
const RACK_HEADER = 26;
const RACK_MIN_WIDTH = 280;

function racksSection(frame: Frame): Section {
  const { model, options, left, inner } = frame;
  const racks = racksOf(model);
  const drawn = racks.slice(0, options.maxRacks);
  const columns = Math.max(1, Math.min(drawn.length, Math.floor((inner + GAP) / (RACK_MIN_WIDTH + GAP))));
  const fullColumns = Math.max(1, Math.floor((inner + GAP) / (RACK_MIN_WIDTH + GAP)));
  const rackWidth = (inner - GAP * (fullColumns - 1)) / fullColumns;
  const gatewayNode = model.gateway.node;
  const vmsPerNode = new Map<string, number>();
  for (const vm of model.vms) vmsPerNode.set(vm.node, (vmsPerNode.get(vm.node) ?? 0) + 1);

  const parts = [svgText(left, 14, `Proxmox nodes by rack · cluster ${model.name}`, inner, { bold: true, size: 14 })];
  let y = 26;
  for (let start = 0; start < drawn.length; start += columns) {
    const row = drawn.slice(start, start + columns);
    const rendered = row.map((rack, i) =>
      rackCell(rack, left + i * (rackWidth + GAP), y, rackWidth, frame, { gatewayNode, vmsPerNode }),
    );
    parts.push(...rendered.map((r) => r.svg));
    y += Math.max(...rendered.map((r) => r.height)) + GAP;
  }
  y -= GAP;
  const hidden = racks.slice(drawn.length);
  if (hidden.length > 0) {
    y += 10;
    const nodes = hidden.reduce((sum, r) => sum + r.nodes.length, 0);
    const capable = hidden.reduce((sum, r) => sum + r.nodes.filter((n) => n.canBeMaster).length, 0);
    parts.push(
      svgText(left, y + 12, `+${plural(hidden.length, 'more rack')} not drawn: ${plural(nodes, 'node')} (${formatCount(capable)} master-capable)`, inner, { bold: true }),
    );
    y += 20;
    for (const line of wrapList(hidden.map((r) => `${r.name} (${r.nodes.length})`), charsThatFit(inner, 12), 3)) {
      parts.push(svgText(left, y + 12, line, inner, { fill: COLOR.muted }));
      y += LINE;
    }
  }
  return { svg: parts.join(''), height: y };
}

/** Joins items with ", " into at most `maxLines` lines of `width` characters, ending in "… +K more" when cut. */
function wrapList(items: readonly string[], width: number, maxLines: number): string[] {
  const lines: string[][] = [[]];
  const length = (line: readonly string[]) => line.reduce((sum, item) => sum + Array.from(item).length + 2, 0);
  for (let i = 0; i < items.length; i++) {
    const item = fitText(items[i], width - 16);
    let line = lines[lines.length - 1];
    if (line.length > 0 && length(line) + Array.from(item).length > width) {
      if (lines.length === maxLines) {
        // Drop items from the last line until the count of what is left out fits behind them.
        let left = items.length - i;
        const more = () => `… +${formatCount(left)} more`;
        while (line.length > 1 && length(line) + more().length > width) {
          line.pop();
          left++;
        }
        return [...lines.slice(0, -1).map((l) => `${l.join(', ')},`), `${line.join(', ')} ${more()}`];
      }
      line = [];
      lines.push(line);
    }
    line.push(item);
  }
  return lines.map((line, n) => line.join(', ') + (n < lines.length - 1 ? ',' : ''));
}

interface NodeContext {
  readonly gatewayNode: string;
  readonly vmsPerNode: ReadonlyMap<string, number>;
}

function rackCell(rack: Rack, x: number, y: number, width: number, frame: Frame, context: NodeContext): Section {
  const { model, options } = frame;
  const nodes = drawnNodes(rack, model.bootstrap, options.maxNodesPerRack);
  const hidden = rack.nodes.filter((n) => !nodes.includes(n));
  const hiddenLine = hidden.length > 0 ? 22 : 0;
  const height = RACK_HEADER + nodes.length * (NODE_HEIGHT + NODE_GAP) + hiddenLine + 4;
  const count = plural(rack.nodes.length, 'node');
  const countWidth = textWidth(count, 12);
  const parts = [
    svgRect(x, y, width, height, { ...COLOR.rack, radius: 6 }),
    svgText(x + 8, y + 17, `rack ${rack.name}`, width - 24 - countWidth, { bold: true }),
    svgText(x + width - 8, y + 17, count, countWidth, { anchor: 'end', fill: COLOR.muted }),
  ];
  nodes.forEach((node, i) => {
    parts.push(nodeBox(node, x + 6, y + RACK_HEADER + i * (NODE_HEIGHT + NODE_GAP), width - 12, context));
  });
  if (hidden.length > 0) {
    const capable = hidden.filter((n) => n.canBeMaster).length;
    const text = `+${formatCount(hidden.length)} more: ${formatCount(capable)} master-capable, ${formatCount(hidden.length - capable)} never master`;
    parts.push(svgText(x + 8, y + height - 12, text, width - 16, { fill: COLOR.muted, size: 11 }));
  }
  return { svg: `<g>${parts.join('')}</g>`, height };
}

function nodeBox(node: NodeModel, x: number, y: number, width: number, context: NodeContext): string {
  const style = node.isBootstrap ? COLOR.bootstrapNode : node.canBeMaster ? COLOR.node : COLOR.weakNode;
  const textFill = node.canBeMaster ? undefined : COLOR.muted;
  const disks = plural(node.disks.length, 'disk');
  const vms = context.vmsPerNode.get(node.name) ?? 0;
  const parts = [
    svgRect(x, y, width, NODE_HEIGHT, style),
    svgText(x + 8, y + 16, node.name, width - 16, { bold: true, fill: textFill }),
    svgText(x + 8, y + 31, `${node.ip} · prio ${node.priority} · ${disks}`, width - 16, { size: 11, fill: COLOR.muted }),
  ];
  const vmCount = plural(vms, 'VM');
  const vmCountWidth = textWidth(vmCount, 11);
  parts.push(svgText(x + width - 8, y + 47, vmCount, vmCountWidth, { size: 11, fill: COLOR.muted, anchor: 'end' }));
  const badgesEnd = x + width - 8 - vmCountWidth - 6;
  let badgeX = x + 8;
  const badges: [string, string][] = [];
  if (node.isBootstrap) badges.push([BOOTSTRAP_MARK, COLOR.bootstrapBadge]);
  if (!node.canBeMaster) badges.push([`${NEVER_MASTER_MARK} (${node.meetsMinimum ? 'priority 0' : 'below minimum'})`, COLOR.weakBadge]);
  if (node.name === context.gatewayNode) badges.push([GATEWAY_HOST_MARK, COLOR.gatewayBadge]);
  for (const [label, fill] of badges) {
    const room = badgesEnd - badgeX;
    if (room < 40) break;
    const badge = svgBadge(badgeX, y + 38, fitText(label, charsThatFit(room - 8, 9)), fill);
    parts.push(badge.svg);
    badgeX += badge.width + 5;
  }
  return `<g>${parts.join('')}</g>`;
}

interface IndexRow {
  readonly index: number;
  readonly ip?: string;
  readonly count: number;
  readonly firstVmid?: number;
  readonly lastVmid?: number;
}

/** One row per VM-management index, plus any index VMs use without an IP (an invalid model, shown anyway). */
function indexRows(model: ClusterModel): IndexRow[] {
  const counts = new Map<number, { count: number; first: number; last: number }>();
  for (const vm of model.vms) {
    const entry = counts.get(vm.externalIndex);
    if (entry) {
      entry.count++;
      entry.first = Math.min(entry.first, vm.vmid);
      entry.last = Math.max(entry.last, vm.vmid);
    } else counts.set(vm.externalIndex, { count: 1, first: vm.vmid, last: vm.vmid });
  }
  const ips = new Map(model.wan.vmMgmtIps.map((e) => [e.index, e.ip]));
  const indices = [...new Set([...ips.keys(), ...counts.keys()])].sort((a, b) => a - b);
  return indices.map((index) => {
    const used = counts.get(index);
    return { index, ip: ips.get(index), count: used?.count ?? 0, firstVmid: used?.first, lastVmid: used?.last };
  });
}

const ROW_HEIGHT = 16;
const ROWS_BEFORE_WRAP = 16;
const TABLE_FONT = 11;

/** Column offsets in characters of the table font; the bar sits between `bar` and `used`. */
const TABLE_COLUMNS = { index: 3, ip: 5, slots: 22, internal: 38, bar: 50, barChars: 12, used: 70 } as const;

function vmIndexSection({ model, left, inner }: Frame): Section {
  const rows = indexRows(model);
  const charWidth = inner / charsThatFit(inner, TABLE_FONT);
  const rowChars = TABLE_COLUMNS.used + 1;
  const columnGap = 28;
  const rowWidth = rowChars * charWidth + 24;
  const fitting = Math.max(1, Math.floor((inner + columnGap) / (rowWidth + columnGap)));
  // A short table stays one column; a long one (up to 251 rows) wraps into as many as fit.
  const columns = Math.max(1, Math.min(fitting, Math.ceil(rows.length / ROWS_BEFORE_WRAP)));
  const columnWidth = Math.min(rowWidth, (inner - columnGap * (columns - 1)) / columns);
  const perColumn = Math.ceil(rows.length / columns);

  const parts = [
    svgText(left, 14, `Tenant VMs by VM-management IP · ${plural(model.vms.length, 'VM')} · ${VMS_PER_EXTERNAL_INDEX} slots per IP`, inner, { bold: true, size: 14 }),
    svgText(
      left,
      32,
      `VMID = E·1000 + a·100 + b (E 0..${MAX_EXTERNAL_INDEX}, a 1..${MAX_RACK_ROW}, b 1..${MAX_SLOT}) → internal IP 10.E.a.b, external ports P·100…P·100+99 (P = a·100 + b) on VM-mgmt IP E`,
      inner,
      { fill: COLOR.muted, size: 11 },
    ),
  ];
  const tableTop = 44;
  const at = (column: number, chars: number) => left + column * (columnWidth + columnGap) + chars * charWidth;
  const header: string[] = [];
  for (let column = 0; column < columns; column++) {
    header.push(
      svgText(at(column, TABLE_COLUMNS.index), 12, 'E', 3 * charWidth, { anchor: 'end' }),
      svgText(at(column, TABLE_COLUMNS.ip), 12, 'VM-mgmt IP', 16 * charWidth),
      svgText(at(column, TABLE_COLUMNS.slots), 12, 'VMID slots', 14 * charWidth),
      svgText(at(column, TABLE_COLUMNS.internal), 12, 'internal', 11 * charWidth),
      svgText(at(column, TABLE_COLUMNS.used), 12, 'VMs/495', 8 * charWidth, { anchor: 'end' }),
    );
  }
  parts.push(`<g transform="translate(0 ${tableTop})" font-size="${TABLE_FONT}" font-weight="bold">${header.join('')}</g>`);

  const body: string[] = [];
  rows.forEach((row, i) => {
    const column = Math.floor(i / perColumn);
    const y = tableTop + 18 + (i % perColumn) * ROW_HEIGHT;
    const x0 = left + column * (columnWidth + columnGap);
    if (i % 2 === 0) body.push(svgRect(x0 - 4, y, columnWidth + 8, ROW_HEIGHT, { fill: COLOR.stripe, stroke: 'none', radius: 0 }));
    body.push(indexRow(row, y + 12, (chars) => at(column, chars), charWidth));
  });
  parts.push(`<g font-size="${TABLE_FONT}">${body.join('')}</g>`);
  if (rows.length === 0) parts.push(svgText(left, tableTop + 30, 'no VM-management IPs', inner, { fill: COLOR.muted }));
  const height = tableTop + 18 + Math.max(1, perColumn) * ROW_HEIGHT;
  return { svg: parts.join(''), height };
}

function indexRow(row: IndexRow, baseline: number, at: (chars: number) => number, charWidth: number): string {
  const c = TABLE_COLUMNS;
  const slotBase = row.index * 1000;
  const used = row.firstVmid === undefined ? 'no VMs' : row.firstVmid === row.lastVmid ? `VMID ${row.firstVmid}` : `VMIDs ${row.firstVmid}–${row.lastVmid}`;
  const tooltip = `E=${row.index} ${row.ip ?? 'no VM-management IP'}: ${plural(row.count, 'VM')}, ${used}`;
  const barWidth = c.barChars * charWidth;
  const fill = row.count >= VMS_PER_EXTERNAL_INDEX ? COLOR.barFull : COLOR.barUsed;
  const usedWidth = row.count === 0 ? 0 : Math.max(1.5, (barWidth * Math.min(row.count, VMS_PER_EXTERNAL_INDEX)) / VMS_PER_EXTERNAL_INDEX);
  const style = { size: TABLE_FONT } as const;
  return (
    `<g><title>${escapeXml(tooltip)}</title>` +
    svgText(at(c.index), baseline, String(row.index), 3 * charWidth, { ...style, anchor: 'end' }) +
    svgText(at(c.ip), baseline, row.ip ?? '(no IP)', 16 * charWidth, row.ip ? style : { ...style, fill: '#cf222e' }) +
    svgText(at(c.slots), baseline, `${slotBase + 101}–${slotBase + 599}`, 14 * charWidth, style) +
    svgText(at(c.internal), baseline, `10.${row.index}.x.y`, 11 * charWidth, style) +
    svgRect(at(c.bar), baseline - 8, barWidth, 9, { fill: COLOR.barEmpty, stroke: 'none', radius: 2 }) +
    (usedWidth > 0 ? svgRect(at(c.bar), baseline - 8, usedWidth, 9, { fill, stroke: 'none', radius: 2 }) : '') +
    svgText(at(c.used), baseline, `${row.count}/${VMS_PER_EXTERNAL_INDEX}`, 8 * charWidth, { ...style, anchor: 'end' }) +
    '</g>'
  );
}

function legendSection({ model, left, inner }: Frame): Section {
  const parts: string[] = [svgLine(left, 0, left + inner, 0, '#d0d7de')];
  let x = left;
  const sample = (style: Parameters<typeof svgRect>[4], label: string): void => {
    parts.push(svgRect(x, 12, 26, 16, style), svgText(x + 32, 24, label, textWidth(label, 11), { size: 11 }));
    x += 32 + textWidth(label, 11) + 24;
  };
  sample(COLOR.bootstrapNode, 'bootstrap node: creates the cluster, first master');
  sample(COLOR.node, 'master-capable node');
  sample(COLOR.weakNode, 'never master: no VRRP instance');
  parts.push(
    svgText(left, 46, 'prio = keepalived priority: the highest live master-capable node wins', inner, { size: 11, fill: COLOR.muted }),
    svgText(left, 64, `from ${model.source} · cias diagram`, inner, { size: 10, fill: COLOR.muted }),
  );
  return { svg: parts.join(''), height: 68 };
}
