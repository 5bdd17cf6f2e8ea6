import { ITerraformDependable, TerraformResource, TerraformStack, Tokenization } from 'cdktf';
import { dependable } from 'cdktf/lib/tfExpression';
import { snakeCase } from 'cdktf/lib/util';
import { NEEDS_RESOLVE, canonicalIfPlain } from './plain-data';
import { Resource as GeneratedNullResource, ResourceConfig as NullResourceConfig } from '@cdktf/provider-null/lib/resource';
import { Construct } from 'constructs';

/** Lifecycle settings that are plain values (no references), the only ones the fast path writes. */
const PLAIN_LIFECYCLE_KEYS = new Set(['createBeforeDestroy', 'preventDestroy', 'ignoreChanges']);

/**
 * The dependencies a provisioning resource was created with. Their addresses are known without
 * resolving a token, so cdktf's `dependsOn` tokens (each captures a stack trace: 0.2 s for the
 * 11,430 pushes of 1,270 nodes) are only made if something reads `dependsOn`.
 */
export interface DependencyRecord {
  readonly dependencies: readonly ITerraformDependable[] | undefined;
  /** The tokens as first made, to notice later changes to the list; undefined while never read. */
  made?: readonly string[];
  /** `dependsOn` was assigned after construction. */
  reassigned: boolean;
}

/**
 * Gives `resource` (constructed without `dependsOn`) a `dependsOn` that holds what cdktf's would,
 * made when first read, and returns the record the fast path writes `depends_on` from.
 */
export function lazyDependsOn(resource: TerraformResource, dependencies: readonly ITerraformDependable[] | undefined): DependencyRecord {
  const record: DependencyRecord = { dependencies, reassigned: false };
  let tokens: string[] | undefined;
  Object.defineProperty(resource, 'dependsOn', {
    configurable: true,
    enumerable: true,
    get: () => {
      if (tokens === undefined && !record.reassigned && dependencies !== undefined) {
        tokens = dependencies.map((dependency) => dependable(dependency));
        record.made = [...tokens];
      }
      return tokens;
    },
    set: (value: string[] | undefined) => {
      tokens = value;
      record.reassigned = true;
    },
  });
  return record;
}

/**
 * What TerraformResource.toTerraform gives a cias provisioning resource (terraform_data,
 * null_resource: attributes, depends_on, count, connection, provisioners), with `depends_on` written
 * as the addresses it resolves to and without the generic passes over the whole attribute tree.
 * undefined when the resource uses anything this does not reproduce exactly (moves, imports,
 * overrides, for_each, a provider, lifecycle references, a dependency outside the stack, a
 * reassigned dependsOn): the caller then takes cdktf's path. Tokens elsewhere stay in the fragment
 * for FastSynthStack to resolve. A test holds both paths equal on every resource of every stack.
 */
export function provisioningFragment(
  resource: TerraformResource,
  attributes: Record<string, unknown>,
  record: DependencyRecord,
  nodeMetadata: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const internals = resource as unknown as { rawOverrides: object; _imported?: unknown };
  if (resource.hasResourceMove() || internals._imported !== undefined || Object.keys(internals.rawOverrides).length > 0) return undefined;
  if (resource.forEach !== undefined || resource.provider !== undefined) return undefined;
  if (resource.count !== undefined && typeof resource.count !== 'number') return undefined;
  const lifecycle = resource.lifecycle as Record<string, unknown> | undefined;
  if (lifecycle && Object.keys(lifecycle).some((key) => !PLAIN_LIFECYCLE_KEYS.has(key))) return undefined;
  const dependsOn = dependencyAddresses(resource, record);
  if (dependsOn === null) return undefined;
  const fragment: Record<string, unknown> = {
    ...attributes,
    depends_on: dependsOn,
    count: resource.count,
    lifecycle: lifecycle && snakeCaseKeys(lifecycle),
    connection: resource.connection && snakeCaseKeys(resource.connection),
    provisioner: resource.provisioners?.map(({ type, ...props }) => ({ [type]: snakeCaseKeys(props) })),
    '//': nodeMetadata,
  };
  // Usually plain: then in final form already, so synthesis neither checks, copies nor sorts it again.
  const body = canonicalIfPlain(fragment);
  return { resource: { [resource.terraformResourceType]: { [resource.friendlyUniqueId]: body === NEEDS_RESOLVE ? fragment : body } } };
}

/** cdktf's snake_case of a key, computed once per distinct key. */
const snakeCaseKeyCache = new Map<string, string>();

function snakeCaseKey(key: string): string {
  let snake = snakeCaseKeyCache.get(key);
  if (snake === undefined) {
    snake = snakeCase(key);
    snakeCaseKeyCache.set(key, snake);
  }
  return snake;
}

/** cdktf's keysToSnakeCase (same rules: tokens kept, `tags` and `environment` values untouched), keys cached. */
function snakeCaseKeys(value: unknown): any {
  if (Tokenization.isResolvable(value)) return value;
  if (Array.isArray(value)) return value.map((item) => (typeof item === 'object' ? snakeCaseKeys(item) : item));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value as object)) {
    const item = (value as Record<string, unknown>)[key];
    if (key === 'tags' || key === 'environment') {
      out[key] = item;
      continue;
    }
    out[snakeCaseKey(key)] = typeof item === 'object' ? snakeCaseKeys(item) : item;
  }
  return out;
}

/** Addresses of the recorded dependencies, or null when one cannot be written without cdktf. */
function dependencyAddresses(resource: TerraformResource, record: DependencyRecord): string[] | undefined | null {
  if (record.reassigned) return null;
  if (record.made !== undefined) {
    const current = resource.dependsOn ?? [];
    if (current.length !== record.made.length || current.some((token, i) => token !== record.made![i])) return null;
  }
  if (record.dependencies === undefined) return undefined;
  const stack = TerraformStack.of(resource);
  const addresses: string[] = [];
  for (const dependency of record.dependencies) {
    if (!TerraformResource.isTerraformResource(dependency) || TerraformStack.of(dependency) !== stack) return null;
    addresses.push(`${dependency.terraformResourceType}.${dependency.friendlyUniqueId}`);
  }
  return addresses;
}

/**
 * `null_resource` from the generated @cdktf/provider-null binding, synthesized through
 * provisioningFragment (see there) when it can be.
 */
export class NullResource extends GeneratedNullResource {
  private readonly dependencyRecord: DependencyRecord;

  constructor(scope: Construct, id: string, config: NullResourceConfig = {}) {
    super(scope, id, { ...config, dependsOn: undefined });
    this.dependencyRecord = lazyDependsOn(this, config.dependsOn);
  }

  toTerraform(): any {
    return provisioningFragment(this, this.synthesizeAttributes(), this.dependencyRecord, this.constructNodeMetadata) ?? super.toTerraform();
  }
}
