import { execFileSync } from 'child_process';
import { rmSync } from 'fs';
import { join } from 'path';
import { diffResources, edit, exampleText, modelOf, resourcesOf, StackJson, synthAll, terraform } from '../helpers/synth';

const PUSHES = ['packages', 'scripts', 'files', 'disks', 'membership', 'keepalived', 'moosefs', 'cluster'];
const NODES = ['pve-master-rack-a-1-1', 'pve-master-rack-b-1-2', 'pve-master-rack-c-1-3'];

function hostsOf(text: string): StackJson {
  const { outdir, stacks } = synthAll(modelOf(text));
  rmSync(outdir, { recursive: true, force: true });
  return stacks.get('hosts')!;
}

/** Construct path (metadata) → resource body. */
function byPath(stack: StackJson): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const body of resourcesOf(stack).values()) {
    const path = ((body['//'] as { metadata: { path: string } }).metadata.path).replace(/^hosts\//, '');
    out.set(path, body);
  }
  return out;
}

const addressOfPath = (stack: StackJson, path: string) =>
  [...resourcesOf(stack).entries()].find(([, body]) => (body['//'] as { metadata: { path: string } }).metadata.path === `hosts/${path}`)![0];

describe('hosts stack', () => {
  const example = exampleText();
  const hosts = hostsOf(example);
  const resources = byPath(hosts);
  const nodeC = example.slice(example.indexOf('  - rack: master-rack\n    position: c'), example.indexOf('\nretired:'));
  const uploadedBundles = () => {
    const locals = (hosts.locals ?? {}) as Record<string, string>;
    const provisioners = [...resources.values()].flatMap((r) => (r.provisioner as Record<string, Record<string, string>>[] | undefined) ?? []);
    return provisioners
      .map((p) => p.file)
      .filter((f) => f && f.destination.startsWith('/tmp/cias-'))
      .map((f) => {
        const local = /^\$\{local\.(\w+)\}$/.exec(f.content)?.[1];
        return { ...f, local, text: (local ? locals[local] : f.content).replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{') };
      });
  };


  it('has every push of every node, and one destroy-time leave per node, named after the node', () => {
    const expected = NODES.flatMap((node) => [...PUSHES.map((p) => `${node}/${p}/push`), `${node}/leave/scenario5`]).sort();
    expect([...resources.keys()].sort()).toEqual(expected);
    for (const [address] of resourcesOf(hosts)) expect(address).toMatch(/^null_resource\.pve-master-rack-[abc]-1-[123]_/);
  });

  it('re-runs a push only when its content changes: the trigger is the bundle hash', () => {
    const push = resources.get('pve-master-rack-a-1-1/keepalived/push')!;
    expect((push.triggers as Record<string, string>).bundle_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('orders the cluster build: bootstrap keepalived (first master) → other keepaliveds; its MooseFS master → chunkservers; cluster before joins', () => {
    const dependsOn = (path: string) => (resources.get(path)!.depends_on as string[]).join(' ');
    const masterMoosefs = addressOfPath(hosts, 'pve-master-rack-a-1-1/moosefs/push');
    const masterCluster = addressOfPath(hosts, 'pve-master-rack-a-1-1/cluster/push');
    expect(dependsOn('pve-master-rack-a-1-1/moosefs/push')).toContain(addressOfPath(hosts, 'pve-master-rack-a-1-1/keepalived/push'));
    expect(dependsOn('pve-master-rack-a-1-1/cluster/push')).toContain(masterMoosefs);
    for (const node of NODES.slice(1)) {
      expect(dependsOn(`${node}/keepalived/push`)).toContain(addressOfPath(hosts, 'pve-master-rack-a-1-1/keepalived/push'));
      expect(dependsOn(`${node}/moosefs/push`)).toContain(masterMoosefs);
      expect(dependsOn(`${node}/cluster/push`)).toContain(masterCluster);
    }
  });

  it('creates the cluster on the bootstrap node with the backup schedules of cluster.yaml', () => {
    const bundles = uploadedBundles();
    const cluster = bundles.find((b) => b.text.includes('# cias install bundle: pve-master-rack-a-1-1/cluster'))!;
    expect(cluster.text).toContain("/usr/local/sbin/cias-bootstrap-cluster --gateway-backup-schedule 'mon 02:00' --vm-backup-schedule 'sun 02:00'");
    const join = bundles.find((b) => b.text.includes('# cias install bundle: pve-master-rack-b-1-2/cluster'))!;
    expect(join.text).toContain('CIAS_ROOT_PASSWORD_FILE=/root/.cias/pve-root-password /usr/local/sbin/cias-join-cluster');
    expect(join.text).toMatch(/retired\.conf.*give this node the next free address/);
  });

  it('connects over SSH with the key variable or ssh-agent, never a key value', () => {
    const connection = resources.get('pve-master-rack-b-1-2/files/push')!.connection as Record<string, unknown>;
    expect(connection).toMatchObject({
      type: 'ssh',
      host: '10.254.1.2',
      port: 22,
      user: 'root',
      private_key: '${var.cias_ssh_private_key == "" ? null : var.cias_ssh_private_key}',
      agent: '${var.cias_ssh_private_key == ""}',
    });
    expect(hosts.variable!.cias_ssh_private_key).toMatchObject({ sensitive: true, type: 'string' });
    expect(hosts.variable!.cias_pve_root_password).toMatchObject({ sensitive: true });
  });

  it('escapes shell ${…} in pushed content so terraform does not interpolate it', () => {
    const provisioners = resources.get('pve-master-rack-a-1-1/files/push')!.provisioner as Record<string, Record<string, string>>[];
    const upload = provisioners.map((p) => p.file).find((f) => f && f.destination.startsWith('/tmp/cias-'))!;
    expect(upload.content).toContain('$${');
    expect(upload.content.replace(/\$\$\{/g, '')).not.toMatch(/\$\{/);
  });

  it('runs scenario 5 when a node is removed, refusing on the master without the explicit flag', () => {
    const leave = resources.get('pve-master-rack-c-1-3/leave/scenario5')!;
    const remote = (leave.provisioner as Record<string, Record<string, unknown>>[])[0]['remote-exec'];
    expect(remote.when).toBe('destroy');
    expect((remote.inline as string[]).join('\n')).toMatch(/holds the master role[\s\S]*cias-node-leave --no-poweroff\n.*10\.254\.1\.3 pve\.master-rack\.c\.1-3\.example\.com.*>>\/mnt\/mfs\/cias\/retired\.conf\nshutdown -h \+1/);
    expect(leave.lifecycle).toEqual({ ignore_changes: ['triggers'] });
    expect((leave.connection as Record<string, string>).host).toBe('${self.triggers.host}');
  });

  it('reordering nodes and VMs in cluster.yaml changes nothing', () => {
    const nodesStart = example.indexOf('  - rack: master-rack\n    position: a');
    const nodesEnd = example.indexOf('\nretired:');
    const block = example.slice(nodesStart, nodesEnd);
    const items = block.split(/\n(?=  - rack:)/);
    const reordered = example.slice(0, nodesStart) + [...items].reverse().join('\n') + example.slice(nodesEnd);
    expect(reordered).not.toBe(example);
    expect(diffResources(hosts, hostsOf(reordered))).toEqual({ added: [], removed: [], changed: [] });
  });

  it('adding a node adds only its own resources, plus every node membership file (nodes.conf)', () => {
    const grown = edit(
      example,
      '\nretired: []',
      '\n  - rack: rack-2\n    position: a\n    ip: 10.254.2.1\n    disks:\n      - { device: sdb }\n\nretired: []',
    );
    const diff = diffResources(hosts, hostsOf(grown));
    const after = hostsOf(grown);
    const paths = (addresses: string[], stack: StackJson) =>
      addresses.map((a) => ((resourcesOf(stack).get(a)!['//'] as { metadata: { path: string } }).metadata.path).replace(/^hosts\//, '')).sort();
    expect(paths(diff.added, after)).toEqual([...PUSHES.map((p) => `pve-rack-2-a-2-1/${p}/push`), 'pve-rack-2-a-2-1/leave/scenario5'].sort());
    expect(diff.removed).toEqual([]);
    expect(paths(diff.changed, after)).toEqual(NODES.map((n) => `${n}/membership/push`));
  });

  it('retiring a node keeps its leave resource (count 0) at the same address, so scenario 5 runs', () => {
    const retired = edit(
      edit(example, nodeC, '').replace('\n\n\nretired', '\n\nretired'),
      'retired: []',
      'retired:\n  - { ip: 10.254.1.3, hostname: pve.master-rack.c.1-3.example.com }',
    );
    const after = hostsOf(retired);
    const diff = diffResources(hosts, after);
    const leave = addressOfPath(hosts, 'pve-master-rack-c-1-3/leave/scenario5');
    expect(diff.removed).not.toContain(leave);
    expect(diff.removed).toHaveLength(PUSHES.length);
    expect(diff.changed).toContain(leave);
    const tombstone = resourcesOf(after).get(leave)!;
    expect(tombstone.count).toBe(0);
    const remote = (tombstone.provisioner as Record<string, Record<string, unknown>>[])[0]['remote-exec'];
    expect(remote.when).toBe('destroy');
  });

  it('terraform runs the destroy-time provisioner of a resource whose count drops to 0 (the mechanism retiring relies on)', () => {
    const { mkdtempSync, writeFileSync, existsSync, readFileSync } = require('fs') as typeof import('fs');
    const dir = mkdtempSync(join(require('os').tmpdir(), 'cias-tombstone-'));
    try {
      const marker = join(dir, 'scenario5-ran');
      const resource = (count?: number) => ({
        resource: {
          terraform_data: {
            leave: {
              ...(count === undefined ? {} : { count }),
              triggers_replace: { node_name: 'pve-x' },
              provisioner: [{ 'local-exec': { when: 'destroy', command: `echo left > ${marker}` } }],
            },
          },
        },
      });
      writeFileSync(join(dir, 'main.tf.json'), JSON.stringify(resource()));
      terraform(dir, 'init', '-input=false', '-no-color');
      terraform(dir, 'apply', '-auto-approve', '-input=false', '-no-color');
      expect(existsSync(marker)).toBe(false);
      writeFileSync(join(dir, 'main.tf.json'), JSON.stringify(resource(0)));
      terraform(dir, 'apply', '-auto-approve', '-input=false', '-no-color');
      expect(readFileSync(marker, 'utf8')).toBe('left\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removing a node removes only its own resources (and updates the others’ membership)', () => {
    const nodeC = example.slice(example.indexOf('  - rack: master-rack\n    position: c'), example.indexOf('\nretired:'));
    const shrunk = edit(example, nodeC, '').replace('\n\n\nretired', '\n\nretired');
    const diff = diffResources(hosts, hostsOf(shrunk));
    expect(diff.added).toEqual([]);
    expect(diff.removed.every((a) => a.includes('pve-master-rack-c-1-3'))).toBe(true);
    expect(diff.removed).toHaveLength(PUSHES.length + 1);
    expect(diff.changed.every((a) => a.includes('_membership_'))).toBe(true);
  });

  it('with terraform_data, the stack passes terraform validate (provisioners, destroy-time self references)', () => {
    const text = edit(example, 'resource_type: null_resource', 'resource_type: terraform_data');
    const { outdir, stacks } = synthAll(modelOf(text));
    try {
      const json = stacks.get('hosts')!;
      expect(Object.keys(json.resource!)).toEqual(['terraform_data']);
      const dir = join(outdir, 'stacks', 'hosts');
      terraform(dir, 'init', '-input=false', '-no-color');
      expect(terraform(dir, 'validate', '-no-color')).toMatch(/Success/);
      const leave = byPath(json).get('pve-master-rack-c-1-3/leave/scenario5')!;
      expect(leave.triggers_replace).toEqual({ node_name: 'pve-master-rack-c-1-3' });
      expect((leave.connection as Record<string, string>).host).toBe('${self.input.host}');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('stores the node scripts and the member list once per stack, referenced from every node', () => {
    const bundles = uploadedBundles();
    const shared = bundles.filter((b) => b.local);
    expect(shared).toHaveLength(2 * NODES.length);
    const locals = [...new Set(shared.map((b) => b.local))];
    expect(Object.keys(hosts.locals as object).sort()).toEqual(locals.sort());
    const texts = locals.map((l) => shared.find((b) => b.local === l)!.text);
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringContaining('install_file /usr/local/sbin/keepalived_to_master.sh 0755'),
        expect.stringMatching(/install_file \/etc\/cias\/nodes\.conf[\s\S]*10\.254\.1\.1 pve-master-rack-a-1-1[\s\S]*10\.254\.1\.3 /),
      ]),
    );
  });

  it('the install bundles it pushes pass shellcheck', () => {
    const bundles = uploadedBundles();
    expect(bundles.length).toBe(NODES.length * PUSHES.length);
    for (const bundle of bundles.slice(0, PUSHES.length)) {
      const result = (() => {
        try {
          return execFileSync('shellcheck', ['-s', 'bash', '-'], { input: bundle.text, encoding: 'utf8' });
        } catch (error) {
          return (error as { stdout: string }).stdout;
        }
      })();
      expect(result).toBe('');
    }
  });
});
