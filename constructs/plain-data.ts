/**
 * Recognising configuration that needs no token resolution (cdktf token encodings, cdktf/lib/tokens).
 * Used by FastSynthStack and by resources that know at construction whether they hold tokens.
 */

export const NEEDS_RESOLVE: unique symbol = Symbol('needs cdktf resolution');
export type Plain = unknown;

/** Token encodings cdktf uses (cdktf/lib/tokens): string/list/map markers, map values, number tokens. */
const TOKEN_MARKER = 'TfToken[';
const MAP_TOKEN_STRINGS = new Set(['String Map Token Value', 'Any Map Token Value']);
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
      return value.includes(TOKEN_MARKER) || MAP_TOKEN_STRINGS.has(value) ? NEEDS_RESOLVE : value;
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
      return value.includes(TOKEN_MARKER) || MAP_TOKEN_STRINGS.has(value);
    case 'number':
      return value === NUMBER_MAP_TOKEN || !Number.isFinite(value) || Math.abs(value) > NUMBER_TOKEN_MAGNITUDE;
    case 'boolean':
    case 'undefined':
      return false;
    case 'object': {
      if (value === null) return false;
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

