/**
 * The drill's node leave is an edit of cluster.yaml, as an operator makes it: the node's entry goes,
 * its address and hostname go under `retired:` (never to be reused, SPEC §2).
 */
import * as fs from 'fs';
import * as yaml from 'js-yaml';

export interface LeavingNode {
  readonly ip: string;
  readonly fqdn: string;
}

function mapping(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The text of `text` without the node at `node.ip`, which is listed under `retired:` instead (pure). */
export function clusterTextWithoutNode(text: string, node: LeavingNode, retiredOn: string): string {
  const document = mapping(yaml.load(text, { schema: yaml.CORE_SCHEMA }));
  const nodes = Array.isArray(document.nodes) ? (document.nodes as unknown[]) : [];
  const remaining = nodes.filter((entry) => mapping(entry).ip !== node.ip);
  if (remaining.length === nodes.length) throw new Error(`cluster file has no node at ${node.ip}`);
  if (document.bootstrap_node === node.ip) throw new Error(`${node.ip} is the bootstrap node: it cannot be removed from the file`);
  const retired = Array.isArray(document.retired) ? (document.retired as unknown[]) : [];
  return yaml.dump(
    { ...document, nodes: remaining, retired: [...retired, { ip: node.ip, hostname: node.fqdn, retired_on: retiredOn }] },
    { lineWidth: 120, noRefs: true },
  );
}

export function writeClusterFileWithoutNode(source: string, target: string, node: LeavingNode, retiredOn: string): void {
  fs.writeFileSync(target, clusterTextWithoutNode(fs.readFileSync(source, 'utf8'), node, retiredOn), { mode: 0o644 });
}
