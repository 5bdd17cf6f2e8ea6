/**
 * SVG primitives for the topology picture (render/diagram.ts): escaping, width-aware text, boxes.
 *
 * The picture must render the same in a browser and in a GitHub PR comment (an <img>: no scripts, no
 * external fonts, no foreignObject), so everything is drawn with presentation attributes and one
 * monospace font stack. A monospace advance is a fixed fraction of the font size, which lets the
 * layout know how wide a text is without measuring it, and cut it to its box instead of overflowing.
 */

/** DejaVu Sans Mono, Menlo and Liberation Mono advance 0.602 em; the spare covers the rest. */
const CHAR_WIDTH_EM = 0.61;

export const FONT_STACK = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace";

/** Code points XML 1.0 forbids even as references; a hostile model must not break the document. */
const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Text content or attribute value: markup characters escaped, XML-forbidden code points replaced. */
export function escapeXml(text: string): string {
  return text.replace(XML_FORBIDDEN, '\uFFFD').replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

/** How many characters of the given font size fit in `width` pixels. */
export function charsThatFit(width: number, fontSize: number): number {
  // The epsilon keeps a width computed by textWidth from losing its last character to rounding.
  return Math.max(1, Math.floor(width / (fontSize * CHAR_WIDTH_EM) + 1e-6));
}

export function textWidth(text: string, fontSize: number): number {
  return Array.from(text).length * fontSize * CHAR_WIDTH_EM;
}

/** Cuts `text` to `maxChars` code points, ending in an ellipsis when cut. */
export function fitText(text: string, maxChars: number): string {
  const points = Array.from(text);
  if (points.length <= maxChars) return text;
  return `${points.slice(0, Math.max(0, maxChars - 1)).join('')}…`;
}

/** Coordinates with at most one decimal keep the file small and stable. */
export function px(value: number): string {
  return String(Math.round(value * 10) / 10);
}

export interface TextStyle {
  /** @default 12 */
  readonly size?: number;
  /** @default false */
  readonly bold?: boolean;
  /** @default inherited (the picture's text colour) */
  readonly fill?: string;
  /** @default 'start' */
  readonly anchor?: 'start' | 'middle' | 'end';
}

/** One line of text, cut to `maxWidth` pixels; the full text stays available as a tooltip when cut. */
export function svgText(x: number, y: number, content: string, maxWidth: number, style: TextStyle = {}): string {
  const size = style.size ?? 12;
  const shown = fitText(content, charsThatFit(maxWidth, size));
  const attributes = [`x="${px(x)}"`, `y="${px(y)}"`];
  if (size !== 12) attributes.push(`font-size="${size}"`);
  if (style.bold) attributes.push('font-weight="bold"');
  if (style.fill) attributes.push(`fill="${style.fill}"`);
  if (style.anchor && style.anchor !== 'start') attributes.push(`text-anchor="${style.anchor}"`);
  const tooltip = shown === content ? '' : `<title>${escapeXml(content)}</title>`;
  return `<text ${attributes.join(' ')}>${tooltip}${escapeXml(shown)}</text>`;
}

export interface BoxStyle {
  readonly fill: string;
  readonly stroke: string;
  /** @default 1 */
  readonly strokeWidth?: number;
  /** @default 4 */
  readonly radius?: number;
  /** e.g. '5 3' for a dashed outline. @default solid */
  readonly dash?: string;
}

export function svgRect(x: number, y: number, width: number, height: number, style: BoxStyle): string {
  const attributes = [`x="${px(x)}"`, `y="${px(y)}"`, `width="${px(width)}"`, `height="${px(height)}"`];
  const radius = style.radius ?? 4;
  if (radius > 0) attributes.push(`rx="${radius}"`);
  attributes.push(`fill="${style.fill}"`, `stroke="${style.stroke}"`);
  if ((style.strokeWidth ?? 1) !== 1) attributes.push(`stroke-width="${style.strokeWidth}"`);
  if (style.dash) attributes.push(`stroke-dasharray="${style.dash}"`);
  return `<rect ${attributes.join(' ')}/>`;
}

export function svgLine(x1: number, y1: number, x2: number, y2: number, stroke: string, dash?: string): string {
  const dashAttribute = dash ? ` stroke-dasharray="${dash}"` : '';
  return `<line x1="${px(x1)}" y1="${px(y1)}" x2="${px(x2)}" y2="${px(y2)}" stroke="${stroke}" stroke-width="1.5"${dashAttribute}/>`;
}

/** A filled label ("BOOTSTRAP · FIRST MASTER"); returns the markup and the width it took. */
export function svgBadge(x: number, y: number, label: string, fill: string, fontSize = 9): { svg: string; width: number } {
  const width = textWidth(label, fontSize) + 8;
  const height = fontSize + 5;
  return {
    svg:
      svgRect(x, y, width, height, { fill, stroke: fill, radius: 3 }) +
      svgText(x + 4, y + fontSize + 1, label, width, { size: fontSize, bold: true, fill: '#ffffff' }),
    width,
  };
}

/** Thousands separators without depending on the runtime's locale data. */
export function formatCount(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function plural(count: number, word: string, pluralWord = `${word}s`): string {
  return `${formatCount(count)} ${count === 1 ? word : pluralWord}`;
}
