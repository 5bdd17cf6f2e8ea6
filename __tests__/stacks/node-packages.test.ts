import { readFileSync } from 'fs';
import { join } from 'path';
import { NODE_PACKAGES } from '../../constructs/node-bundles';

describe('node packages', () => {
  it('every package a node push installs is installed by the project for the tests and the lab (offline nodes)', () => {
    const script = readFileSync(join(__dirname, '../../scripts/install-system-deps.sh'), 'utf8');
    const listed = /packages=\(([\s\S]*?)\n\)/.exec(script)![1].split(/\s+/).filter(Boolean);
    expect(NODE_PACKAGES.filter((p) => !listed.includes(p))).toEqual([]);
    expect(NODE_PACKAGES).toEqual(expect.arrayContaining(['keepalived', 'moosefs-master', 'moosefs-chunkserver', 'moosefs-metalogger', 'moosefs-client', 'jq']));
  });
});
