/**
 * Recognising configuration that needs no token resolution (cdktf token encodings, cdktf/lib/tokens).
 * Used by FastSynthStack and by resources that know at construction whether they hold tokens.
 */

import { isPrerendered } from './json-text';

export const NEEDS_RESOLVE: unique symbol = Symbol('needs cdktf resolution');
export type Plain = unknown;

/** Token encodings cdktf uses (cdktf/lib/tokens): string/list/map markers, map values, number tokens. */
const TOKEN_MARKER = 'TfToken[';
/** The map token strings; compared directly (a Set would hash every string it is asked about). */
const isMapTokenString = (value: string) => value === 'String Map Token Value' || value === 'Any Map Token Value';
const NUMBER_MAP_TOKEN = -123456789;
/** Encoded number tokens are doubles around -1.9e289; no real configuration value comes close. */
const NUMBER_TOKEN_MAGNITUDE = 1e280;

/**
 * A deep copy without undefined values (as cdktf's resolver drops them), or NEEDS_RESOLVE when the
 * value holds anything cdktf must resolve (a token, or an object that is not plain data).
 */
export function plainOrNeedsResolve(value: unknown): Plain | typeof NEEDS_RESOLVE {
  switch (typeof value) {
    case 'string':
      return value.includes(TOKEN_MARKER) || isMapTokenString(value) ? NEEDS_RESOLVE : value;
    case 'number':
      return value === NUMBER_MAP_TOKEN || !Number.isFinite(value) || Math.abs(value) > NUMBER_TOKEN_MAGNITUDE ? NEEDS_RESOLVE : value;
    case 'boolean':
    case 'undefined':
      return value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        const out: unknown[] = [];
        for (const item of value) {
          const copy = plainOrNeedsResolve(item);
          if (copy === NEEDS_RESOLVE) return NEEDS_RESOLVE;
          if (copy !== undefined) out.push(copy);
        }
        return out;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return NEEDS_RESOLVE;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        if (key.includes(TOKEN_MARKER)) return NEEDS_RESOLVE;
        const copy = plainOrNeedsResolve((value as Record<string, unknown>)[key]);
        if (copy === NEEDS_RESOLVE) return NEEDS_RESOLVE;
        if (copy !== undefined) out[key] = copy;
      }
      return out;
    }
    default:
      return NEEDS_RESOLVE;
  }
}

/** Whether cdktf must resolve the value: the same test as plainOrNeedsResolve, without copying. */
export function holdsTokens(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      return value.includes(TOKEN_MARKER) || isMapTokenString(value);
    case 'number':
      return value === NUMBER_MAP_TOKEN || !Number.isFinite(value) || Math.abs(value) > NUMBER_TOKEN_MAGNITUDE;
    case 'boolean':
    case 'undefined':
      return false;
    case 'object': {
      if (value === null || CANONICAL.has(value)) return false;
      if (Array.isArray(value)) return value.some(holdsTokens);
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return true;
      for (const key of Object.keys(value)) {
        if (key.includes(TOKEN_MARKER) || holdsTokens((value as Record<string, unknown>)[key])) return true;
      }
      return false;
    }
    default:
      return true;
  }
}


/** Whether a scalar (string or number) is, or holds, a token. */
function scalarHoldsTokens(value: unknown): boolean {
  return (typeof value === 'string' || typeof value === 'number') && holdsTokens(value);
}

/**
 * A deep copy without undefined values in which only the smallest parts that hold tokens go through
 * `resolveUnit` (cdktf's resolver): a string with a token, an array of scalars with a token (list
 * tokens are encoded across the elements), an object with a token key or one that is not plain data.
 * Resolving a part on its own gives what resolving the whole tree gives: cdktf's resolution context
 * only changes inside tokens, and the walk never descends into one. A push whose only token is its
 * `depends_on` no longer sends megabytes of script text through cdktf's per-string scans.
 */
export function resolvePartsWithTokens(value: unknown, resolveUnit: (unit: unknown) => unknown): unknown {
  if (isCanonical(value) || isPrerendered(value)) return value;
  switch (typeof value) {
    case 'string':
    case 'number':
      return scalarHoldsTokens(value) ? resolveUnit(value) : value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        if (value.some(scalarHoldsTokens)) return resolveUnit(value);
        const out: unknown[] = [];
        for (const item of value) {
          const copy = resolvePartsWithTokens(item, resolveUnit);
          if (copy !== undefined) out.push(copy);
        }
        return out;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return resolveUnit(value);
      const keys = Object.keys(value);
      if (keys.some((key) => key.includes(TOKEN_MARKER))) return resolveUnit(value);
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const copy = resolvePartsWithTokens((value as Record<string, unknown>)[key], resolveUnit);
        if (copy !== undefined) out[key] = copy;
      }
      return out;
    }
    case 'boolean':
    case 'undefined':
      return value;
    default:
      return resolveUnit(value);
  }
}

/**
 * Subtrees known to be in their final JSON form: plain data, no undefined, every object's keys in
 * sorted order. FastSynthStack neither copies nor re-sorts them; builders that emit many identical
 * blocks (a shard's VMs) produce them once through `canonical` and share them.
 */
const CANONICAL = new WeakSet<object>();

export function isCanonical(value: unknown): boolean {
  return typeof value === 'object' && value !== null && CANONICAL.has(value);
}

/**
 * The final JSON form of plain data: undefined dropped (as cdktf's resolver drops it), object keys
 * sorted (as cdktf's writer sorts them), marked so later passes leave it alone (only the root is
 * marked: marking every node would cost more than it saves). Throws on a token: only plain
 * configuration may take this path.
 */
export function canonical(value: unknown): unknown {
  return mark(toCanonical(value, false));
}

/**
 * `canonical` of plain data, or NEEDS_RESOLVE when it holds a token: for fragments that are usually
 * plain and must stay correct when they are not. holdsTokens stops at the first token, so a fragment
 * with one is not walked to the end; a plain one is scanned once, not again while copied.
 */
export function canonicalIfPlain(value: unknown): unknown {
  return holdsTokens(value) ? NEEDS_RESOLVE : mark(toCanonical(value, true));
}

/** `canonical` without the mark: for small values that go straight into JSON text. */
export function canonicalCopy(value: unknown): unknown {
  return toCanonical(value, false);
}

function mark(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) CANONICAL.add(value);
  return value;
}

/** @param checked holdsTokens has already found no token in `value` */
function toCanonical(value: unknown, checked: boolean): unknown {
  if (typeof value !== 'object' || value === null) {
    if (!checked && holdsTokens(value)) throw new Error(`canonical: ${String(value)} holds a token`);
    return value;
  }
  if (CANONICAL.has(value)) return value;
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) if (item !== undefined) items.push(toCanonical(item, checked));
    return items;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) throw new Error('canonical: not plain data');
  const record: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    if (!checked && key.includes(TOKEN_MARKER)) throw new Error(`canonical: key ${key} holds a token`);
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) record[key] = toCanonical(item, checked);
  }
  return record;
}

/**
 * `canonical` for a record whose possible keys are known in sorted order (a resource's argument
 * names), merged from layers (the first layer holding a key wins): no per-record sort, values made
 * canonical (a no-op for shared canonical blocks). Not marked: put it in a canonicalMap.
 */
export function canonicalRecord(layers: readonly Record<string, unknown>[], sortedKeys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of sortedKeys) {
    for (const layer of layers) {
      const value = layer[key];
      if (value === undefined) continue;
      out[key] = toCanonical(value, false);
      break;
    }
  }
  for (const layer of layers) {
    for (const key of Object.keys(layer)) {
      if (layer[key] !== undefined && !(key in out)) throw new Error(`canonicalRecord: unexpected key ${key}`);
    }
  }
  return out;
}

/** A map of canonical values (e.g. canonicalRecord results) by key, keys sorted, marked canonical. */
export function canonicalMap(entries: Iterable<readonly [string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (key.includes(TOKEN_MARKER)) throw new Error(`canonicalMap: key ${key} holds a token`);
    out[key] = value;
  }
  CANONICAL.add(out);
  return out;
}
