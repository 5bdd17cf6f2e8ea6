import { readFileSync } from 'fs';
import { join } from 'path';
import { ClusterModel } from '../../model/cluster';
import { loadClusterText } from '../../model/load';

export const EXAMPLE_PATH = join(__dirname, '../../cluster.yaml');
export const exampleText = (): string => readFileSync(EXAMPLE_PATH, 'utf8');

export function modelOf(text: string): ClusterModel {
  return loadClusterText(text, 'cluster.yaml').model;
}

/** Replaces one exact snippet; fails loudly when it is missing. */
export function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`snippet not found: ${from}`);
  return text.replace(from, to);
}

