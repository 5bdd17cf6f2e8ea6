import { textSlices } from '../render/large-text';

/**
 * JSON text written directly for large, regular parts of a stack. A full cluster's 124,245 VMs are
 * three quarters of its output; built as objects, sorted and serialized they cost several times what
 * writing the text costs, and the blocks VMs share (CPU, disks, lifecycle) would be serialized once
 * per VM. A PrerenderedJson value writes its own text; FastSynthStack splices it into the document.
 */

/** Where text goes: a file written in chunks (see stacks/chunked-file.ts), or a string. */
export interface TextSink {
  write(text: string): void;
}

/** Collects text into one string. */
export class StringSink implements TextSink {
  private readonly parts: string[] = [];

  write(text: string): void {
    this.parts.push(text);
  }

  toString(): string {
    return this.parts.join('');
  }
}

/** A value that knows its JSON text, as `JSON.stringify(value, undefined, 2)` lays it out. */
export abstract class PrerenderedJson {
  /**
   * Writes the value's text, laid out as it appears nested in a document: every line after the first
   * starts with `indent`, the indentation of the line the value starts on.
   */
  abstract writeJson(sink: TextSink, indent: string): void;

  /** The same value as plain data (canonical: sorted keys, no undefined), for merging and tests. */
  abstract toValue(): unknown;

  /** writeJson into a string. */
  toJsonText(indent: string): string {
    const sink = new StringSink();
    this.writeJson(sink, indent);
    return sink.toString();
  }
}

export function isPrerendered(value: unknown): value is PrerenderedJson {
  return value instanceof PrerenderedJson;
}

/**
 * `JSON.stringify(value, undefined, 2)` of canonical data nested at `indent`. Serialized strings hold
 * no raw newline (JSON escapes it), so every newline of the text starts a line.
 */
export function indentedJson(value: unknown, indent: string): string {
  const text = JSON.stringify(value, undefined, 2);
  return indent === '' || !text.includes('\n') ? text : text.replace(/\n/g, `\n${indent}`);
}

/** Characters per slice of a long string: its JSON text is written slice by slice. */
const STRING_SLICE = 1 << 16;

/**
 * A long string (a pushed bundle of megabytes): its JSON text written slice by slice, so the escaped
 * copy of the whole string never exists. Escaping is per character, so the slices' texts joined are
 * the text of the whole, as long as no surrogate pair is cut in two.
 */
export class LongStringJson extends PrerenderedJson {
  /** Strings at least this long are worth writing in slices. */
  static readonly MIN_LENGTH = STRING_SLICE;

  constructor(private readonly value: string) {
    super();
  }

  writeJson(sink: TextSink): void {
    sink.write('"');
    for (const slice of textSlices(this.value, STRING_SLICE)) sink.write(JSON.stringify(slice).slice(1, -1));
    sink.write('"');
  }

  toValue(): unknown {
    return this.value;
  }
}
