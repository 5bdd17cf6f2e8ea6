import { createHash } from 'crypto';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { LongStringJson, PrerenderedJson, StringSink, TextSink, indentedJson } from '../../constructs/json-text';
import { contentHash } from '../../render/install-bundle';
import { canonical } from '../../constructs/plain-data';
import { writeChunked } from '../../stacks/chunked-file';
import { stableJson } from '../../stacks/fast-stack';

/** Text with everything JSON escapes or UTF-8 encodes in several bytes, around every slice boundary. */
function awkwardText(length: number): string {
  const alphabet = ['a', '"', '\\', '\n', '\t', '\u0001', '\u2028', 'é', '→', '😀', '${x}', '%{y}', '\ud800'];
  let text = '';
  for (let i = 0; text.length < length; i++) text += alphabet[(i * 7 + (i >> 3)) % alphabet.length];
  return text;
}

/** Positions where a slice of 64 Ki characters may cut: a surrogate pair straddles each of them. */
function straddling(prefix: number): string {
  return 'x'.repeat(prefix) + '😀'.repeat(4) + 'y'.repeat(70_000) + '😀' + 'z'.repeat(65_000);
}

describe('JSON text for large stacks', () => {
  it.each([
    ['short', 'plain'],
    ['escapes and multi-byte characters', awkwardText(300_000)],
    ['a surrogate pair across the first slice boundary', straddling(65_535)],
    ['a surrogate pair right after it', straddling(65_536)],
  ])('a long string is written slice by slice as JSON.stringify writes it whole (%s)', (_name, text) => {
    const sink = new StringSink();
    new LongStringJson(text).writeJson(sink);
    expect(sink.toString()).toBe(JSON.stringify(text));
  });

  it('stableJson splices prerendered values and long strings at their indentation', () => {
    class Numbers extends PrerenderedJson {
      writeJson(sink: TextSink, indent: string): void {
        sink.write(indentedJson(this.toValue(), indent));
      }
      toValue(): unknown {
        return { a: [1, 2], b: { c: 'd' } };
      }
    }
    const long = awkwardText(200_000);
    const document = { z: 1, resource: { kind: { items: new Numbers(), text: long } }, list: [new Numbers(), 'x'] };
    const expected = JSON.stringify(
      { list: [{ a: [1, 2], b: { c: 'd' } }, 'x'], resource: { kind: { items: { a: [1, 2], b: { c: 'd' } }, text: long } }, z: 1 },
      undefined,
      2,
    );
    expect(stableJson(document)).toBe(expected);
  });

  it('long strings inside final (canonical) subtrees are written in slices too, the subtree left as it was', () => {
    const long = awkwardText(150_000);
    const subtree = canonical({ b: [long, 'x', { c: long }], d: 'short' }) as Record<string, unknown>;
    const document = { z: [subtree], a: subtree };
    expect(stableJson(document)).toBe(JSON.stringify({ a: subtree, z: [subtree] }, undefined, 2));
    expect(subtree.b).toEqual([long, 'x', { c: long }]);
  });

  it('a string that looks like the placeholder is written as it is', () => {
    const document = { a: '\u0000cias-prerendered-1-x-0', b: ['\u0000cias-prerendered-'] };
    expect(stableJson(document)).toBe(JSON.stringify(document, undefined, 2));
  });

  it('writes a file in chunks as UTF-8, whatever falls on a chunk boundary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cias-chunked-'));
    try {
      const pieces = [awkwardText(100_000), 'short', straddling(65_535), ...Array.from({ length: 5000 }, (_, i) => awkwardText(i % 97))];
      writeChunked(join(dir, 'out.json'), (sink) => pieces.forEach((piece) => sink.write(piece)));
      // Byte for byte what one conversion of the whole text gives (a lone surrogate becomes U+FFFD in both).
      expect(readFileSync(join(dir, 'out.json')).equals(Buffer.from(pieces.join(''), 'utf8'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closes the file when writing fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cias-chunked-'));
    try {
      expect(() =>
        writeChunked(join(dir, 'out.json'), (sink) => {
          sink.write('partial');
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(readFileSync(join(dir, 'out.json'), 'utf8')).toBe('partial');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['empty', ''],
    ['one slice', 'x'.repeat(65_536)],
    ['awkward text', awkwardText(200_000)],
    ['a pair across a slice boundary', straddling(65_535)],
  ])('contentHash, hashed in slices, is the sha256 of the whole text (%s)', (_name, text) => {
    expect(contentHash(text)).toBe(createHash('sha256').update(text).digest('hex'));
  });
});
