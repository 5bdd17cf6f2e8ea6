/**
 * Maps YAML paths to line:column, so that every validation message can point into cluster.yaml.
 * Built from js-yaml's node listener only when there is something to report: the happy path parses once
 * without it.
 */
import * as yaml from 'js-yaml';
import { SourcePosition, YamlPath } from './problems';

interface Frame {
  start: number;
  kind?: string | null;
  result?: unknown;
  children: Frame[];
}

export interface PositionEntry {
  readonly key?: number;
  readonly value: number;
}

export class YamlPositions {
  private readonly offsets = new Map<string, PositionEntry>();
  private readonly lineStarts: number[] = [0];

  constructor(private readonly source: string) {
    for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    const root: Frame = { start: 0, children: [] };
    const stack: Frame[] = [root];
    try {
      yaml.load(source, {
        schema: yaml.CORE_SCHEMA,
        listener: (event, state) => {
          if (event === 'open') {
            stack.push({ start: state.position, children: [] });
          } else {
            const frame = stack.pop()!;
            frame.kind = state.kind;
            frame.result = state.result;
            stack[stack.length - 1].children.push(frame);
          }
        },
      });
    } catch {
      // Syntax errors carry their own mark; positions are best effort for the part that parsed.
    }
    const document = root.children[0];
    if (document) this.walk(unwrap(document), [], undefined);
  }

  /** Position of the value at `path`, or of its key with `atKey`, or of the nearest ancestor. */
  find(path: YamlPath, atKey = false): SourcePosition | undefined {
    for (let depth = path.length; depth >= 0; depth--) {
      const entry = this.offsets.get(pathKey(path.slice(0, depth)));
      if (!entry) continue;
      const offset = atKey && depth === path.length && entry.key !== undefined ? entry.key : entry.value;
      return this.toPosition(offset);
    }
    return undefined;
  }

  private walk(frame: Frame, path: YamlPath, keyOffset: number | undefined): void {
    this.offsets.set(pathKey(path), { key: keyOffset, value: this.skipBlank(frame.start) });
    if (frame.kind === 'mapping' && frame.children.length % 2 === 0) {
      for (let i = 0; i < frame.children.length; i += 2) {
        const key = unwrap(frame.children[i]);
        const value = unwrap(frame.children[i + 1]);
        this.walk(value, [...path, String(key.result)], this.skipBlank(key.start));
      }
    } else if (frame.kind === 'sequence' && Array.isArray(frame.result) && frame.children.length === frame.result.length) {
      frame.children.forEach((child, index) => this.walk(unwrap(child), [...path, index], undefined));
    }
  }

  private skipBlank(offset: number): number {
    let i = offset;
    while (i < this.source.length) {
      const ch = this.source[i];
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') i++;
      else if (ch === '#') while (i < this.source.length && this.source[i] !== '\n') i++;
      else break;
    }
    return i;
  }

  private toPosition(offset: number): SourcePosition {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.lineStarts[mid] <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - this.lineStarts[low] + 1 };
  }
}

/** js-yaml wraps some nodes (flow collections, sequence items) in a frame with the same result. */
function unwrap(frame: Frame): Frame {
  let current = frame;
  while (current.children.length === 1 && current.children[0].result === current.result) {
    current = current.children[0];
  }
  return current;
}

function pathKey(path: YamlPath): string {
  return path.map(String).join('\u0000');
}
