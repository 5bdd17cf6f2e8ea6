import { readFileSync } from 'fs';
import { join } from 'path';
import { clusterJsonSchemaText, spliceReference } from '../../model/json-schema';

const root = join(__dirname, '../..');

describe('files generated from model/schema.ts', () => {
  it('cluster.schema.json is up to date (run npm run schema)', () => {
    expect(readFileSync(join(root, 'cluster.schema.json'), 'utf8')).toBe(clusterJsonSchemaText());
  });

  it("the README's cluster.yaml reference is up to date (run npm run schema)", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(spliceReference(readme)).toBe(readme);
  });

  it('the example points editors at the schema', () => {
    expect(readFileSync(join(root, 'cluster.yaml'), 'utf8').split('\n')[0]).toBe(
      '# yaml-language-server: $schema=./cluster.schema.json',
    );
  });

  it('the JSON schema documents every field with defaults and ranges', () => {
    const schema = JSON.parse(clusterJsonSchemaText());
    const node = schema.properties.nodes.items.properties;
    expect(node.priority).toMatchObject({ type: 'integer', minimum: 0, maximum: 100, default: 50 });
    expect(node.disks.items.properties.filesystem).toMatchObject({ enum: ['xfs', 'ext4'], default: 'xfs' });
    expect(schema.properties.nodes.items.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['cluster', 'wan', 'bootstrap_node', 'nodes']));
  });
});
