import { execFileSync } from 'child_process';
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { asTerraformPlan, TerraformPlanJson } from '../../render/plan-summary-changes';

export const FIXTURES = join(__dirname, '../fixtures/plans');

export function fixture(name: string): TerraformPlanJson {
  return asTerraformPlan(JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')), name);
}

/** Cells of a Markdown table row, with `\|` kept inside its cell. */
export function cells(line: string): string[] {
  return line
    .replace(/^\|\s?/, '')
    .replace(/\s?\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

/** Body rows (after the header and the alignment row) of the table under `### heading`. */
export function tableRows(markdown: string, heading: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(`### ${heading}`);
  if (start < 0) return [];
  const rows: string[][] = [];
  let seen = 0;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('### ')) break;
    if (!line.startsWith('|')) {
      if (seen > 0) break;
      continue;
    }
    seen += 1;
    if (seen > 2) rows.push(cells(line));
  }
  return rows;
}

/** Items (without the "- ⚠️ " prefix) of the `> [!KIND]` alert. */
export function alertItems(markdown: string, kind: 'CAUTION' | 'WARNING'): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(`> [!${kind}]`);
  if (start < 0) return [];
  const items: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('> ')) break;
    items.push(line.replace(/^> - (⚠️ )?/, ''));
  }
  return items;
}

export function row(markdown: string, heading: string, first: string): string[] | undefined {
  return tableRows(markdown, heading).find((r) => r[0] === first);
}

/** Runs terraform offline in `dir` with a private, empty CLI configuration. */
export function terraformIn(dir: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  const cliConfig = join(dir, '.terraformrc');
  writeFileSync(cliConfig, '');
  return execFileSync('terraform', [...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_CLI_CONFIG_FILE: cliConfig, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
