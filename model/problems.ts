/** Validation problems: collected, never thrown one at a time, and printed with file:line:col. */

export type YamlPath = readonly (string | number)[];

export interface Problem {
  readonly severity: 'error' | 'warning';
  /** Where in the document, e.g. ['nodes', 2, 'ip']. */
  readonly path: YamlPath;
  /** The rule that was broken, phrased to follow the value: "is outside 10.254.{1..5}.{1..99}". */
  readonly rule: string;
  /** The offending value; omitted when the problem is about something missing. */
  readonly value?: unknown;
  /** Point at the key rather than its value (unknown keys). */
  readonly atKey?: boolean;
}

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

export function formatPath(path: YamlPath): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? part : `.${part}`;
  }
  return text === '' ? '(document)' : text;
}

export function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w./:@+-]+$/.test(value) && value !== '' ? value : JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length > 4 ? `[${value.length} items]` : JSON.stringify(value);
  if (typeof value === 'object') return '{…}';
  return String(value);
}

export function formatProblem(file: string, problem: Problem, position?: SourcePosition): string {
  const where = position ? `${file}:${position.line}:${position.column}` : file;
  const label = problem.severity === 'warning' ? ' warning:' : '';
  const subject = problem.value === undefined ? '' : `${formatValue(problem.value)} `;
  return `${where}${label} ${formatPath(problem.path)}: ${subject}${problem.rule}`;
}

export class ProblemList {
  private readonly items: Problem[] = [];

  error(path: YamlPath, rule: string, value?: unknown): void {
    this.items.push({ severity: 'error', path, rule, value });
  }

  warning(path: YamlPath, rule: string, value?: unknown): void {
    this.items.push({ severity: 'warning', path, rule, value });
  }

  add(problem: Problem): void {
    this.items.push(problem);
  }

  get all(): readonly Problem[] {
    return this.items;
  }

  get errors(): readonly Problem[] {
    return this.items.filter((p) => p.severity === 'error');
  }

  get warnings(): readonly Problem[] {
    return this.items.filter((p) => p.severity === 'warning');
  }
}

/** Thrown by loadCluster when the file is not a valid cluster; carries every message, already formatted. */
export class ClusterConfigError extends Error {
  constructor(
    readonly file: string,
    readonly messages: readonly string[],
    readonly warnings: readonly string[] = [],
  ) {
    super(`${file}: ${messages.length} problem${messages.length === 1 ? '' : 's'}\n${messages.join('\n')}`);
    this.name = 'ClusterConfigError';
  }
}
