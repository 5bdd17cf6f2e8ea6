/**
 * A TerraformStack that synthesizes the same JSON as cdktf's, faster.
 *
 * cdktf resolves tokens by walking every value of every element three times (a preparing pass, each
 * fragment, then the merged document), allocating a resolution context per key. For a full cluster
 * (124,245 VMs, megabytes of pushed file content) that walk is most of the synth time and memory.
 * Nearly all of cias' configuration is plain data without tokens, so each fragment is first checked
 * by one allocation-light walk; only fragments that really hold tokens go through cdktf's resolver.
 * The output is identical (a test compares it with cdktf's own toTerraform on every stack).
 */
import { Aspects, IStackSynthesizer, ISynthesisSession, TerraformElement, TerraformOutput, TerraformStack } from 'cdktf';
import { join } from 'path';
import { Construct } from 'constructs';
import { resolve } from 'cdktf/lib/_tokens';
import { deepMerge } from 'cdktf/lib/util';
import { holdsTokens, isCanonical, Plain, plainOrNeedsResolve, resolvePartsWithTokens } from '../constructs/plain-data';
import { LongStringJson, PrerenderedJson, StringSink, TextSink, isPrerendered } from '../constructs/json-text';
import { writeChunked } from './chunked-file';
import { withoutTokenStackTraces } from './token-traces';

export { holdsTokens, plainOrNeedsResolve };

/**
 * deepMerge for fragments that are already plain: a key the target lacks takes the source subtree as
 * it is (no copy, no recursion), which is the common case (one resource per fragment).
 */
function mergePlain(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const key of Object.keys(source)) {
    let value = source[key];
    let existing = target[key];
    if (existing === undefined) {
      target[key] = value;
      continue;
    }
    // Text cannot be merged into: another element writes to the same block, so both become data.
    if (isPrerendered(value)) value = value.toValue();
    if (isPrerendered(existing)) existing = target[key] = existing.toValue();
    if (isRecord(value) && isRecord(existing)) {
      // A canonical subtree may be shared and must stay sorted: merge into a copy.
      mergePlain(isCanonical(existing) ? (target[key] = { ...existing }) : existing, value);
    } else if (Array.isArray(value) && Array.isArray(existing)) {
      target[key] = [...existing, ...value];
    } else {
      target[key] = value;
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmptyRecord(value: unknown): boolean {
  return isRecord(value) && Object.keys(value).length === 0;
}

/**
 * A copy with every object's keys in sorted order, so JSON.stringify writes what a stable stringify
 * would. Prerendered values and long strings become placeholders collected in `prerendered` (without
 * it, prerendered values become their data).
 */
export function sortedKeys(value: unknown, prerendered?: PrerenderedJson[]): unknown {
  if (isCanonical(value)) return prerendered === undefined ? value : withLongStringsPrerendered(value, prerendered);
  if (isPrerendered(value)) return prerendered === undefined ? value.toValue() : placeholder(value, prerendered);
  if (prerendered !== undefined && isLongString(value)) return placeholder(new LongStringJson(value), prerendered);
  if (Array.isArray(value)) return value.map((item) => sortedKeys(item, prerendered));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortedKeys((value as Record<string, unknown>)[key], prerendered);
  return out;
}

/**
 * A canonical (sorted, final) subtree with its long strings as placeholders: the subtree itself when
 * it holds none, otherwise a copy of the objects on the way to them (keys already in order).
 */
function withLongStringsPrerendered(value: unknown, prerendered: PrerenderedJson[]): unknown {
  if (isLongString(value)) return placeholder(new LongStringJson(value), prerendered);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const replaced = withLongStringsPrerendered(item, prerendered);
      if (replaced !== item) (copy ??= [...value])[i] = replaced;
    });
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const replaced = withLongStringsPrerendered(item, prerendered);
    if (replaced !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = replaced;
  }
  return copy ?? value;
}

function isLongString(value: unknown): value is string {
  return typeof value === 'string' && value.length >= LongStringJson.MIN_LENGTH;
}

/** Registers a value to splice in and returns the string that stands for it meanwhile. */
function placeholder(value: PrerenderedJson, prerendered: PrerenderedJson[]): string {
  prerendered.push(value);
  return `${PLACEHOLDER}${prerendered.length - 1}`;
}

/**
 * Stands in for a prerendered value while the rest of the document is serialized. NUL characters
 * and a per-process nonce: no configuration string can be mistaken for it.
 */
const PLACEHOLDER = `\u0000cias-prerendered-${process.pid}-${Date.now().toString(36)}-`;

/**
 * The same document text cdktf writes (keys sorted, two-space indent), with the native serializer;
 * prerendered values are spliced in as the text they write at their line's indentation.
 */
export function writeStableJson(document: unknown, sink: TextSink): void {
  const prerendered: PrerenderedJson[] = [];
  const text = JSON.stringify(sortedKeys(document, prerendered), undefined, 2);
  let from = 0;
  prerendered.forEach((value, i) => {
    const placeholder = JSON.stringify(`${PLACEHOLDER}${i}`);
    const at = text.indexOf(placeholder, from);
    if (at < 0) throw new Error(`writeStableJson: placeholder ${i} not found`);
    const lineStart = text.lastIndexOf('\n', at) + 1;
    let indentEnd = lineStart;
    while (text.charCodeAt(indentEnd) === 32) indentEnd++;
    sink.write(text.slice(from, at));
    value.writeJson(sink, text.slice(lineStart, indentEnd));
    from = at + placeholder.length;
  });
  sink.write(from === 0 ? text : text.slice(from));
}

/** writeStableJson into a string. */
export function stableJson(document: unknown): string {
  const sink = new StringSink();
  writeStableJson(document, sink);
  return sink.toString();
}

/**
 * Wraps cdktf's stack synthesizer (aspects, validations, annotations, manifest) but writes the stack's
 * JSON itself: cdktf's sorted-key writer (json-stable-stringify, in JavaScript) takes several times
 * longer than sorting once and using the native serializer, which gives the same text.
 */
class NativeJsonSynthesizer implements IStackSynthesizer {
  constructor(
    private readonly stack: FastSynthStack,
    private readonly inner: IStackSynthesizer,
  ) {}

  synthesize(session: ISynthesisSession): void {
    const document = withoutTokenStackTraces(() => this.stack.withDeferredDocument(() => this.inner.synthesize(session)));
    const manifest = session.manifest.forStack(this.stack);
    writeChunked(join(session.outdir, manifest.synthesizedStackPath), (file) => writeStableJson(document, file));
  }
}

/**
 * An element that can give its fragment with parts as PrerenderedJson (the text FastSynthStack
 * writes); `toTerraform` stays the same fragment as data.
 */
export interface PrerenderingElement {
  toPrerenderedTerraform(): Record<string, unknown>;
}

/** Whether any construct of the stack has an aspect (cdktf applies them to the stack's subtree only). */
function hasAspects(stack: TerraformStack): boolean {
  return stack.node.findAll().some((construct) => Aspects.of(construct).all.length > 0);
}

export class FastSynthStack extends TerraformStack {
  private deferred?: { document?: unknown };

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.synthesizer = new NativeJsonSynthesizer(this, this.synthesizer);
  }

  /** Runs cdktf's synthesizer with toTerraform handing it an empty document; returns the real one. */
  withDeferredDocument(synthesize: () => void): unknown {
    this.deferred = {};
    try {
      synthesize();
      return this.deferred.document;
    } finally {
      this.deferred = undefined;
    }
  }

  private elements(): TerraformElement[] {
    return this.node
      .findAll()
      .filter((c): c is TerraformElement => TerraformElement.isTerraformElement(c) && c.cdktfStack === this);
  }

  private resolveFast(value: unknown, preparing = false): Plain {
    return resolvePartsWithTokens(value, (part) => resolve(this, part, preparing));
  }

  prepareStack(): void {
    this.ensureBackendExists();
    // The preparing pass lets tokens register cross-stack references; plain fragments have none.
    // Plain fragments are kept for the document, unless an aspect may still change an element before
    // it is written (cdktf runs aspects between the two passes). Fragments with tokens are not kept:
    // their resolved copies, for every stack at once, would cost more memory than they save.
    const keep = !hasAspects(this);
    const prepared = new Map<TerraformElement, unknown>();
    withoutTokenStackTraces(() => {
      for (const element of this.elements()) {
        if ((element as { isPlain?: boolean }).isPlain === true) continue;
        const fragment = element.toTerraform();
        if (holdsTokens(fragment)) this.resolveFast(fragment, true);
        else if (keep) prepared.set(element, fragment);
      }
    });
    this.prepared = prepared;
  }

  /** Plain fragments from the preparing pass, used once by the next document. */
  private prepared?: Map<TerraformElement, unknown>;

  toTerraform(): any {
    if (this.deferred) {
      this.deferred.document = this.buildDocument(true);
      return {};
    }
    return this.buildDocument(false);
  }

  /** @param prerendered let elements that can write their own JSON text do so (see PrerenderedJson) */
  private buildDocument(prerendered: boolean): Record<string, unknown> {
    const elements = this.elements();
    const rawOverrides = (this as unknown as { rawOverrides: Record<string, unknown> }).rawOverrides;
    const metadata: Record<string, unknown> = {
      version: (this as unknown as { cdktfVersion: string }).cdktfVersion,
      stackName: this.node.id,
      backend: 'local',
      cloud: undefined,
      ...(Object.keys(rawOverrides).length > 0 ? { overrides: { stack: Object.keys(rawOverrides) } } : {}),
    };
    for (const element of elements) {
      const meta = element.toMetadata();
      if (!isEmptyRecord(meta)) deepMerge(metadata, this.resolveFast(meta));
    }
    const outputs: Record<string, unknown> = {};
    for (const element of elements) {
      if (!TerraformOutput.isTerraformOutput(element)) continue;
      deepMerge(
        outputs,
        element.node.path.split('/').reduceRight<Record<string, unknown>>(
          (inner, part) => (Object.keys(inner).length === 0 ? { [part]: element.friendlyUniqueId } : { [part]: inner }),
          {},
        ),
      );
    }
    if (metadata.cloud === undefined) delete metadata.cloud;
    const tf: Record<string, unknown> = { '//': this.resolveFast({ metadata, outputs }) };
    const prepared = this.prepared;
    this.prepared = undefined;
    for (const element of elements) {
      const own = prerendered ? (element as Partial<PrerenderingElement>).toPrerenderedTerraform?.() : undefined;
      mergePlain(tf, this.resolveFast(own ?? prepared?.get(element) ?? element.toTerraform()) as Record<string, unknown>);
    }
    if (Object.keys(rawOverrides).length === 0) return tf;
    deepMerge(tf, rawOverrides);
    return this.resolveFast(tf) as Record<string, unknown>;
  }
}
