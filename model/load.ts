/**
 * cluster.yaml → ClusterModel. Every problem (YAML syntax, unknown keys, types, ranges, cross-field
 * rules) is collected and reported at once, each with file:line:col, YAML path, bad value and rule.
 */
import { readFileSync } from 'fs';
import * as yaml from 'js-yaml';
import { z } from 'zod';
import { buildCluster } from './build';
import { ClusterModel } from './cluster';
import { ClusterConfigError, Problem, ProblemList, YamlPath, formatProblem } from './problems';
import { clusterSchema } from './schema';
import { YamlPositions } from './yaml-positions';

export interface LoadedCluster {
  readonly model: ClusterModel;
  /** Formatted warnings (file:line:col …); the model is usable. */
  readonly warnings: readonly string[];
}

export function loadClusterFile(file: string): LoadedCluster {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ClusterConfigError(file, [`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  return loadClusterText(text, file);
}

export function loadClusterText(text: string, file = 'cluster.yaml'): LoadedCluster {
  const problems = new ProblemList();
  let raw: unknown;
  try {
    // CORE_SCHEMA: no implicit timestamps, so `retired_on: 2026-11-25` stays the string it looks like.
    raw = yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (error) {
    if (error instanceof yaml.YAMLException) {
      const mark = error.mark;
      const where = mark ? `${file}:${mark.line + 1}:${mark.column + 1}` : file;
      throw new ClusterConfigError(file, [`${where} YAML syntax: ${error.reason}`]);
    }
    throw error;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ClusterConfigError(file, [`${file}:1:1 (document): must be a mapping with cluster, wan, nodes … (see cluster.schema.json)`]);
  }

  const parsed = clusterSchema.safeParse(raw);
  let model: ClusterModel | undefined;
  if (parsed.success) {
    model = buildCluster(parsed.data, file, problems);
  } else {
    for (const issue of parsed.error.issues) for (const problem of describeIssue(issue, raw)) problems.add(problem);
  }

  if (problems.all.length === 0 && model) return { model, warnings: [] };
  const positions = new YamlPositions(text);
  const format = (p: Problem) => formatProblem(file, p, positions.find(p.path, p.atKey));
  const warnings = problems.warnings.map(format);
  if (problems.errors.length > 0 || !model) {
    throw new ClusterConfigError(file, problems.errors.map(format), warnings);
  }
  return { model, warnings };
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): Problem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol') as YamlPath;
  const value = valueAt(raw, issue.path);
  const error = (rule: string, shown: unknown = value, atKey = false): Problem => ({
    severity: 'error',
    path,
    rule,
    value: shown,
    atKey,
  });
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(path);
      return issue.keys.map((key) => ({
        severity: 'error' as const,
        path: [...path, key],
        rule: `is not a known key${suggestion(key, allowed)}`,
        atKey: true,
      }));
    }
    case 'invalid_type': {
      const expected = ARTICLE[issue.expected] ?? issue.expected;
      if (value === undefined) return [error(`is required (expected ${expected})`, undefined)];
      return [error(`is not ${expected}`)];
    }
    case 'too_small':
      if (issue.origin === 'array') return [error(`has ${(value as unknown[]).length} items; at least ${issue.minimum} required`, undefined)];
      if (issue.origin === 'string') return [error(issue.minimum === 1 ? 'is empty' : `is shorter than ${issue.minimum} characters`)];
      return [error(`is below the minimum ${issue.minimum}`)];
    case 'too_big':
      if (issue.origin === 'array') return [error(`has ${(value as unknown[]).length} items; at most ${issue.maximum} allowed`, undefined)];
      if (issue.origin === 'string') return [error(`is longer than ${issue.maximum} characters`)];
      return [error(`is above the maximum ${issue.maximum}`)];
    case 'invalid_value':
      return [error(`is not one of ${issue.values.map(String).join(', ')}`)];
    case 'invalid_union': {
      // A discriminated union (state.backend) reports the allowed tags in its note.
      const allowed = /Expected (.*)$/.exec(issue.message)?.[1]?.replace(/'/g, '').split(' | ');
      return [error(allowed ? `is not one of ${allowed.join(', ')}` : issue.message)];
    }
    default:
      return [error(issue.message)];
  }
}

/** The keys the schema allows at a path, for "did you mean" hints. */
function allowedKeys(path: YamlPath): string[] {
  let schema: z.core.$ZodType | undefined = clusterSchema;
  for (const part of path) {
    schema = unwrapSchema(schema);
    if (!schema) return [];
    const def = schema._zod.def as unknown as Record<string, unknown>;
    if (typeof part === 'number') schema = def.element as z.core.$ZodType | undefined;
    else schema = (def.shape as Record<string, z.core.$ZodType> | undefined)?.[part];
  }
  schema = unwrapSchema(schema);
  const shape = schema && (schema._zod.def as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

function unwrapSchema(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let current = schema;
  for (let i = 0; current && i < 10; i++) {
    const def = current._zod.def as unknown as Record<string, unknown>;
    const inner = (def.innerType ?? def.in) as z.core.$ZodType | undefined;
    if (!inner) break;
    current = inner;
  }
  return current;
}

function suggestion(key: string, allowed: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const hint = best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean ${best}?` : '';
  return allowed.length > 0 ? `${hint} (allowed: ${allowed.join(', ')})` : hint;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length];
}
