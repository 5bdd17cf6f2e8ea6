/**
 * The topology SVG in a real browser: Debian's headless chromium (scripts/install-system-deps.sh)
 * parses it, loads it as an <img> (how a GitHub PR comment shows it: no scripts, nothing fetched),
 * and screenshots it; the PNG is decoded and checked for the picture's colours. Chromium only ever
 * opens file:// URLs, and host resolution is switched off so it cannot reach the network.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { renderTopologySvg } from '../../render/diagram';
import { FULL_CAPACITY, exampleModel, generatedModel } from './diagram-fixtures';
import { DecodedPng, colorHistogram, decodePng } from './diagram-png';

const CHROMIUM = '/usr/bin/chromium';

interface ChromiumRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('the topology SVG in headless chromium', () => {
  let dir: string;
  let profiles = 0;
  const example = renderTopologySvg(exampleModel());
  const full = renderTopologySvg(generatedModel(FULL_CAPACITY));
  const heightOf = (svg: string) => Number(/<svg [^>]*height="(\d+)"/.exec(svg)?.[1]);

  beforeAll(() => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-system-deps.sh`);
    dir = mkdtempSync(join(tmpdir(), 'cias-diagram-browser-'));
    writeFileSync(join(dir, 'example.svg'), example);
    writeFileSync(join(dir, 'full.svg'), full);
    // A bare ampersand: what an unescaped name would produce.
    writeFileSync(join(dir, 'broken.svg'), example.replace('cias-pve-master', 'cias & master'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function chromium(url: string, ...extra: string[]): ChromiumRun {
    if (!url.startsWith('file:///')) throw new Error(`chromium only opens local files here, not ${url}`);
    const profile = join(dir, `profile-${profiles++}`);
    const result = spawnSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--host-resolver-rules=MAP * ~NOTFOUND',
        `--user-data-dir=${profile}`,
        ...extra,
        url,
      ],
      { encoding: 'utf8', timeout: 90_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
    );
    if (result.error) throw result.error;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** What the browser made of the document: its DOM after loading. */
  function dumpDom(file: string): string {
    const run = chromium(`file://${join(dir, file)}`, '--dump-dom');
    expect(run.status).toBe(0);
    return run.stdout;
  }

  /** Natural size of the SVG loaded as an <img>, or 'error' when the browser refused it. */
  function imageSize(svgFile: string): string {
    const page = join(dir, `img-${svgFile}.html`);
    writeFileSync(
      page,
      '<!doctype html><html><body>' +
        `<img src="${svgFile}" onload="document.body.setAttribute('data-size', this.naturalWidth + 'x' + this.naturalHeight)" ` +
        `onerror="document.body.setAttribute('data-size', 'error')">` +
        '</body></html>',
    );
    const run = chromium(`file://${page}`, '--dump-dom', '--allow-file-access-from-files');
    expect(run.status).toBe(0);
    return /data-size="([^"]*)"/.exec(run.stdout)?.[1] ?? 'not loaded';
  }

  function screenshot(svgFile: string, width: number, height: number): DecodedPng {
    const png = join(dir, `${svgFile}.png`);
    const run = chromium(`file://${join(dir, svgFile)}`, `--screenshot=${png}`, `--window-size=${width},${height}`);
    expect(run.status).toBe(0);
    expect(statSync(png).size).toBeGreaterThan(20_000);
    return decodePng(readFileSync(png));
  }

  test('parses both pictures as SVG and flags a malformed one', () => {
    for (const file of ['example.svg', 'full.svg']) {
      const dom = dumpDom(file);
      expect(dom.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(dom).not.toContain('parsererror');
      expect(dom).toContain('cias-pve-master');
    }
    expect(dumpDom('broken.svg')).toContain('<parsererror');
  });

  test('loads as an <img> at its own size, as a PR comment shows it', () => {
    expect(imageSize('example.svg')).toBe(`1280x${heightOf(example)}`);
    expect(imageSize('full.svg')).toBe(`1280x${heightOf(full)}`);
    expect(imageSize('broken.svg')).toBe('error');
  });

  test('the example screenshot shows every part of the picture in its colours', () => {
    const png = screenshot('example.svg', 1400, 1000);
    expect([png.width, png.height]).toEqual([1400, 1000]);
    const colors = colorHistogram(png);
    const total = [...colors.values()].reduce((a, b) => a + b, 0);
    const share = (color: string) => (colors.get(color) ?? 0) / total;
    expect(share('#ffffff')).toBeLessThan(0.85);
    expect(colors.size).toBeGreaterThan(200); // anti-aliased text, not flat boxes only
    const expectedColors: Record<string, string> = {
      '#fff8c5': 'WAN band and bootstrap node',
      '#ddf4ff': 'LAN band',
      '#fbefff': 'master role box',
      '#dafbe1': 'gateway box',
      '#fff1e5': 'NAS box',
      '#9a6700': 'BOOTSTRAP MASTER badge',
      '#6e7781': 'NEVER MASTER badge',
      '#1a7f37': 'GATEWAY VM 100 badge',
      '#1f2328': 'text',
    };
    const missing = Object.entries(expectedColors).filter(([color]) => share(color) < 0.0002);
    expect(missing).toEqual([]);
    // The picture is 1280 wide: the rest of the 1400-pixel window stays page-white.
    for (let y = 0; y < png.height; y += 50) expect(png.colorAt(1350, y)).toBe('#ffffff');
  });

  test('the full-capacity screenshot renders down to the VM table and the legend', () => {
    const height = heightOf(full);
    const png = screenshot('full.svg', 1400, height);
    expect(png.height).toBe(height);
    const colors = colorHistogram(png, 3);
    expect(colors.get('#bc4c00') ?? 0).toBeGreaterThan(1000); // 251 full bars
    expect(colors.get('#9a6700') ?? 0).toBeGreaterThan(0);
    // The last rows of the table and the legend sit in the bottom 15 %: not blank.
    let inked = 0;
    for (let y = Math.floor(height * 0.85); y < height; y += 2) {
      for (let x = 0; x < 1280; x += 2) if (png.colorAt(x, y) !== '#ffffff') inked++;
    }
    expect(inked).toBeGreaterThan(2000);
  });
});
