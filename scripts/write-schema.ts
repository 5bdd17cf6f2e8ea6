/** Regenerates cluster.schema.json and the README's cluster.yaml reference from model/schema.ts. */
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { clusterJsonSchemaText, spliceReference } from '../model/json-schema';

const root = join(__dirname, '..');
writeFileSync(join(root, 'cluster.schema.json'), clusterJsonSchemaText());
const readmePath = join(root, 'README.md');
writeFileSync(readmePath, spliceReference(readFileSync(readmePath, 'utf8')));
console.log('wrote cluster.schema.json and the README reference');
