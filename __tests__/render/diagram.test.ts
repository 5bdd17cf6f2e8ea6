import { ClusterModel, NodeModel } from '../../model/cluster';
import { BOOTSTRAP_MARK, GATEWAY_HOST_MARK, NEVER_MASTER_MARK, renderTopologySvg } from '../../render/diagram';
import { escapeXml, fitText } from '../../render/diagram-svg';
import { FULL_CAPACITY, exampleModel, generatedModel, wellFormednessProblems } from './diagram-fixtures';

/** Innermost <g> groups: one per node box and one per VM-index row. */
function innermostGroups(svg: string): string[] {
  return [...svg.matchAll(/<g>((?:(?!<g[ >]).)*?)<\/g>/gs)].map((m) => m[1]);
}

function groupWith(svg: string, text: string): string {
  const matches = innermostGroups(svg).filter((g) => g.includes(`>${text}<`));
  if (matches.length !== 1) throw new Error(`expected one group with ${text}, found ${matches.length}`);
  return matches[0];
}

/** Visible text, entities decoded (tooltips left out). */
function visibleTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>(?:<title>[^<]*<\/title>)?([^<]*)<\/text>/g)].map((m) =>
    m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&'),
  );
}

function attribute(svg: string, name: string): string {
  const match = new RegExp(`<svg [^>]*\\b${name}="([^"]*)"`).exec(svg);
  if (!match) throw new Error(`no ${name} on <svg>`);
  return match[1];
}

describe('renderTopologySvg on the example cluster', () => {
  const model = exampleModel();
  const svg = renderTopologySvg(model);
  const texts = visibleTexts(svg);

  test('is one well-formed, self-contained SVG document with a viewBox', () => {
    expect(wellFormednessProblems(svg)).toEqual([]);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" ')).toBe(true);
    const [width, height] = [Number(attribute(svg, 'width')), Number(attribute(svg, 'height'))];
    expect(width).toBe(1280);
    expect(height).toBeGreaterThan(500);
    expect(attribute(svg, 'viewBox')).toBe(`0 0 ${width} ${height}`);
    // Nothing a GitHub <img> or a sandboxed viewer would block or fetch.
    expect(svg).not.toMatch(/<script|<foreignObject|<style|<image|<use|href=|url\(|@import|@font-face|https?:\/\/(?!www\.w3\.org\/2000\/svg")/i);
  });

  test('draws every node once, with the bootstrap, never-master and gateway-host marks on the right boxes', () => {
    for (const node of model.nodes) expect(texts.filter((t) => t === node.name)).toHaveLength(1);
    const bootstrap = groupWith(svg, 'pve-master-rack-a-1-1');
    expect(bootstrap).toContain(`>${BOOTSTRAP_MARK}<`);
    expect(bootstrap).toContain(`>${GATEWAY_HOST_MARK}<`);
    expect(bootstrap).not.toContain(NEVER_MASTER_MARK);
    expect(bootstrap).toContain('10.254.1.1 · prio 100 · 2 disks');
    expect(bootstrap).toContain('>1 VM<');
    const capable = groupWith(svg, 'pve-master-rack-b-1-2');
    expect(capable).not.toContain(BOOTSTRAP_MARK);
    expect(capable).not.toContain(NEVER_MASTER_MARK);
    expect(capable).toContain('>2 VMs<');
    const weak = groupWith(svg, 'pve-master-rack-c-1-3');
    expect(weak).toContain(`>${NEVER_MASTER_MARK} (below minimum)<`);
    expect(weak).not.toContain(BOOTSTRAP_MARK);
    expect(weak).toContain('stroke-dasharray');
    expect(texts).toContain('rack master-rack');
    expect(texts).toContain('3 nodes');
  });

  test('shows both VIPs, the gateway with its WAN addresses, and the NAS', () => {
    expect(texts).toEqual(expect.arrayContaining(['10.254.0.254', 'cias-pve-master', '192.168.56.101', 'master external IP']));
    expect(texts).toContain('first master: pve-master-rack-a-1-1');
    expect(texts).toContain('cias-router · VMID 100 · Zentyal KVM');
    expect(texts).toContain('on pve-master-rack-a-1-1 · LAN 10.0.0.254/8');
    const gatewayRows: [string, string][] = [
      ['Proxmox-mgmt', '192.168.56.102'],
      ['NAS-mgmt', '192.168.56.103'],
      ['VM-mgmt E=0', '192.168.56.104'],
      ['VM-mgmt E=10', '192.168.56.114'],
    ];
    for (const [label, ip] of gatewayRows) {
      const at = texts.indexOf(label);
      expect(at).toBeGreaterThan(-1);
      expect(texts[at + 1]).toBe(ip);
    }
    expect(texts.find((t) => t.startsWith('WAN (external)'))).toBe('WAN (external) 192.168.56.0/24 · default gateway 192.168.56.1');
    expect(texts).toContain('nas-storage-rack-a-1-1');
    expect(texts).toContain('  10.253.1.1 · backup, iso, vztmpl');
  });

  test('has one row per VM-management index with its IP, VMID slots, internal range and use', () => {
    const row0 = groupWith(svg, '192.168.56.104');
    expect(visibleTexts(row0)).toEqual(['0', '192.168.56.104', '101–599', '10.0.x.y', '2/495']);
    expect(row0).toContain('<title>E=0 192.168.56.104: 2 VMs, VMIDs 101–102</title>');
    const row10 = groupWith(svg, '192.168.56.114');
    expect(visibleTexts(row10)).toEqual(['10', '192.168.56.114', '10101–10599', '10.10.x.y', '1/495']);
    expect(row10).toContain('<title>E=10 192.168.56.114: 1 VM, VMID 10501</title>');
    expect(texts[0]).toBe('DLLL-CIAS topology — example.com');
    expect(texts[1]).toBe('3 nodes in 1 rack (2 master-capable, 1 never master) · 1 NAS · 3 tenant VMs on 2 VM-management IPs (capacity 990)');
  });

  test('keeps every box inside the picture', () => {
    const width = Number(attribute(svg, 'width'));
    const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)];
    expect(rects.length).toBeGreaterThan(15);
    for (const m of rects) {
      expect(Number(m[1])).toBeGreaterThanOrEqual(0);
      expect(Number(m[1]) + Number(m[2])).toBeLessThanOrEqual(width);
    }
  });

  test('is deterministic', () => {
    expect(renderTopologySvg(exampleModel())).toBe(svg);
  });
});

describe('escaping', () => {
  const base = exampleModel();
  const hostile = '<script>alert("x")</script>&amp;\'';
  const nodes: NodeModel[] = base.nodes.map((n, i) => (i === 1 ? { ...n, rack: `r${hostile}`, name: `n${hostile}\u0001` } : n));
  const model: ClusterModel = {
    ...base,
    name: `c${hostile}`,
    domain: `d${hostile}`,
    source: `/tmp/${hostile}.yaml`,
    nodes,
    gateway: { ...base.gateway, name: `g${hostile}` },
    nas: [{ ...base.nas[0], name: `s${hostile}` }],
  };
  const svg = renderTopologySvg(model, { title: `t${hostile}]]>` });

  test('no model text can inject markup or break the document', () => {
    expect(wellFormednessProblems(svg)).toEqual([]);
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('\u0001');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;&apos;');
    const texts = visibleTexts(svg);
    expect(texts).toContain(`t${hostile}]]>`);
    expect(texts.some((t) => t.startsWith(`rack r${hostile}`.slice(0, 20)))).toBe(true);
    expect(texts).toContain(`n${hostile}\uFFFD`);
  });

  test('escapeXml handles every markup character and strips what XML forbids', () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
    expect(escapeXml('bell\u0007 nul\u0000 lone\uD800 pair😀')).toBe('bell\uFFFD nul\uFFFD lone\uFFFD pair😀');
  });

  test('fitText cuts by code point, never inside a surrogate pair', () => {
    expect(fitText('abcdef', 6)).toBe('abcdef');
    expect(fitText('abcdef', 4)).toBe('abc…');
    expect(fitText('😀😀😀😀', 3)).toBe('😀😀…');
  });
});

describe('the largest cluster the spec allows', () => {
  const model = generatedModel(FULL_CAPACITY);
  const started = Date.now();
  const svg = renderTopologySvg(model);
  const elapsed = Date.now() - started;
  const texts = visibleTexts(svg);

  test('has 1,270 nodes and 124,245 VMs and renders into a small file', () => {
    expect(model.nodes).toHaveLength(1270);
    expect(model.vms).toHaveLength(124245);
    const bytes = Buffer.byteLength(svg);
    process.stdout.write(`full-capacity diagram: ${bytes} bytes, ${elapsed} ms, height ${attribute(svg, 'height')}\n`);
    expect(bytes).toBeLessThan(300_000);
    expect(wellFormednessProblems(svg)).toEqual([]);
    expect(Number(attribute(svg, 'height'))).toBeLessThan(5000);
  });

  test('caps racks and nodes per rack, and says what it left out', () => {
    const drawnNodes = model.nodes.filter((n) => texts.includes(n.name));
    expect(drawnNodes).toHaveLength(8 * 8);
    expect(drawnNodes[0].isBootstrap).toBe(true);
    expect(texts.filter((t) => t === '+2 more: 2 master-capable, 0 never master').length).toBeGreaterThan(0);
    const hiddenRacks = 127 - 8;
    const hiddenNodes = model.nodes.slice(80);
    const hiddenCapable = hiddenNodes.filter((n) => n.canBeMaster).length;
    expect(texts).toContain(`+${hiddenRacks} more racks not drawn: 1,190 nodes (${hiddenCapable.toLocaleString('en-US')} master-capable)`);
    const listed = texts.filter((t) => t.startsWith('rack-009 (10), '));
    expect(listed).toHaveLength(1);
    expect(texts.some((t) => /… \+\d+ more$/.test(t))).toBe(true);
    expect(texts).toContain('+247 more VM-mgmt IPs (table below)');
    expect(texts).toContain('+8 more NAS');
  });

  test('summarizes VMs per index: 251 rows, never one element per VM', () => {
    const rows = innermostGroups(svg).filter((g) => g.startsWith('<title>E='));
    expect(rows).toHaveLength(251);
    for (const e of [0, 125, 250]) {
      const row = rows[e];
      expect(visibleTexts(row)).toEqual([String(e), model.wan.vmMgmtIps[e].ip, `${e * 1000 + 101}–${e * 1000 + 599}`, `10.${e}.x.y`, '495/495']);
      expect(row).toContain(`VMIDs ${e * 1000 + 101}–${e * 1000 + 599}`);
    }
    expect(texts).toContain('Tenant VMs by VM-management IP · 124,245 VMs · 495 slots per IP');
    expect((svg.match(/<text /g) ?? []).length).toBeLessThan(3000);
  });

  test('always draws the bootstrap node, even deep in a crowded rack', () => {
    const nodes = model.nodes.map((n, i) => ({ ...n, isBootstrap: i === 9 }));
    const svgWithLateBootstrap = renderTopologySvg({ ...model, nodes, bootstrap: nodes[9] });
    const bootstrapBox = groupWith(svgWithLateBootstrap, nodes[9].name);
    expect(bootstrapBox).toContain(BOOTSTRAP_MARK);
    expect(visibleTexts(svgWithLateBootstrap).filter((t) => t.startsWith('pve-rack-001-'))).toHaveLength(8);
  });

  test('options change the caps and are checked', () => {
    const wide = renderTopologySvg(model, { width: 1400, maxRacks: 2, maxNodesPerRack: 3, maxNas: 1, maxGatewayVmIps: 1, title: 'Site B' });
    const wideTexts = visibleTexts(wide);
    expect(attribute(wide, 'width')).toBe('1400');
    expect(wideTexts[0]).toBe('Site B');
    expect(model.nodes.filter((n) => wideTexts.includes(n.name))).toHaveLength(6);
    expect(wideTexts).toContain('+250 more VM-mgmt IPs (table below)');
    expect(wideTexts).toContain('+11 more NAS');
    expect(() => renderTopologySvg(model, { width: 500 })).toThrow(/width 500/);
    expect(() => renderTopologySvg(model, { maxRacks: 0 })).toThrow(/maxRacks 0/);
    expect(() => renderTopologySvg(model, { maxNodesPerRack: 1.5 })).toThrow(/maxNodesPerRack 1.5/);
  });
});
