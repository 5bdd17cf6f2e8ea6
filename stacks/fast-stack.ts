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
import { TerraformElement, TerraformOutput, TerraformStack } from 'cdktf';
import { resolve } from 'cdktf/lib/_tokens';
import { deepMerge } from 'cdktf/lib/util';

const NEEDS_RESOLVE: unique symbol = Symbol('needs cdktf resolution');
type Plain = unknown;

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

/**
 * deepMerge for fragments that are already plain: a key the target lacks takes the source subtree as
 * it is (no copy, no recursion), which is the common case (one resource per fragment).
 */
function mergePlain(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const key of Object.keys(source)) {
    const value = source[key];
    const existing = target[key];
    if (existing === undefined) {
      target[key] = value;
    } else if (isRecord(value) && isRecord(existing)) {
      mergePlain(existing, value);
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

export class FastSynthStack extends TerraformStack {
  /**
   * Plain fragments found by the preparing pass. A fragment without tokens cannot change between
   * prepareStack and toTerraform, so it is converted and checked once.
   */
  private readonly plainFragments = new Map<TerraformElement, Record<string, unknown>>();

  private elements(): TerraformElement[] {
    return this.node
      .findAll()
      .filter((c): c is TerraformElement => TerraformElement.isTerraformElement(c) && c.cdktfStack === this);
  }

  private resolveFast(value: unknown, preparing = false): Plain {
    const copy = plainOrNeedsResolve(value);
    return copy === NEEDS_RESOLVE ? resolve(this, value, preparing) : copy;
  }

  prepareStack(): void {
    this.ensureBackendExists();
    // The preparing pass lets tokens register cross-stack references; plain fragments have none.
    this.plainFragments.clear();
    for (const element of this.elements()) {
      const fragment = element.toTerraform();
      const plain = plainOrNeedsResolve(fragment);
      if (plain === NEEDS_RESOLVE) resolve(this, fragment, true);
      else this.plainFragments.set(element, plain as Record<string, unknown>);
    }
  }

  toTerraform(): any {
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
    for (const element of elements) {
      const fragment = this.plainFragments.get(element) ?? (this.resolveFast(element.toTerraform()) as Record<string, unknown>);
      mergePlain(tf, fragment);
    }
    this.plainFragments.clear();
    if (Object.keys(rawOverrides).length === 0) return tf;
    deepMerge(tf, rawOverrides);
    return this.resolveFast(tf);
  }
}
