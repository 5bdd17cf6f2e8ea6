import { spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { nasStorageBundle } from '../../constructs/nas-storage';
import { NasModel } from '../../model/cluster';
import { edit, exampleText, modelOf } from '../helpers/synth';
import { pushedBundle, resourceStartingWith, synthGuests } from './guest-synth';

const ID = 'nas.storage-rack.a.1-1.example.com';
const LOCAL = 'dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup\n\n';
const section = (opts: { type?: string; server?: string; exportPath?: string; content?: string } = {}) =>
  `${opts.type ?? 'nfs'}: ${ID}\n\texport ${opts.exportPath ?? `/export/${ID}`}\n\tpath /mnt/pve/${ID}\n\tserver ${opts.server ?? '10.253.1.1'}\n\tcontent ${opts.content ?? 'backup,iso,vztmpl'}\n\n`;

/**
 * A stand-in for `pvesm` that edits a storage.cfg the way Proxmox writes it and records its calls:
 * `add` fails on an existing ID like the real one, `set` rewrites a property, `status` fails when
 * FAKE_STATUS_FAIL is set (an unreachable NAS).
 */
const FAKE_PVESM = `#!/usr/bin/env bash
set -euo pipefail
cfg="$CIAS_PVE_DIR/storage.cfg"
printf '%s\\n' "$*" >>"$FAKE_CALLS"
case $1 in
  add)
    type=$2 id=$3
    shift 3
    if grep -q "^[a-z]*: $id\\$" "$cfg"; then echo "storage ID '$id' already defined" >&2; exit 255; fi
    printf '%s: %s\\n' "$type" "$id" >>"$cfg"
    while (($#)); do printf '\\t%s %s\\n' "\${1#--}" "$2" >>"$cfg"; shift 2; done
    printf '\\n' >>"$cfg"
    ;;
  set)
    id=$2
    shift 2
    while (($#)); do
      awk -v id="$id" -v key="\${1#--}" -v val="$2" '/^[^[:space:]]/ { s = ($2 == id) } s && $1 == key { print "\\t" key " " val; next } { print }' "$cfg" >"$cfg.new"
      mv "$cfg.new" "$cfg"
      shift 2
    done
    ;;
  status) [[ -z \${FAKE_STATUS_FAIL:-} ]] ;;
  *) exit 2 ;;
esac
`;

describe('NasStorage', () => {
  const model = modelOf(exampleText());
  const { stacks } = synthGuests(model);
  const [, push] = resourceStartingWith(stacks.get('gateway'), 'null_resource', 'nas-storage-rack-a-1-1_storage_push_');
  const bundle = pushedBundle(push);

  let dir: string;
  let pveDir: string;
  let bin: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cias-nas-'));
    pveDir = join(dir, 'pve');
    bin = join(dir, 'bin');
    mkdirSync(pveDir);
    mkdirSync(bin);
    writeFileSync(join(bin, 'pvesm'), FAKE_PVESM);
    chmodSync(join(bin, 'pvesm'), 0o755);
    writeFileSync(join(dir, 'bundle.sh'), bundle);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const cfg = () => readFileSync(join(pveDir, 'storage.cfg'), 'utf8');
  const calls = () => (existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : []);
  const run = (env: Record<string, string> = {}, withPvesm = true) =>
    spawnSync('bash', [join(dir, 'bundle.sh')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: withPvesm ? `${bin}:${process.env.PATH}` : process.env.PATH,
        CIAS_ROOT: join(dir, 'root'),
        CIAS_PVE_DIR: pveDir,
        CIAS_LOG_FILE: join(dir, 'cias.log'),
        FAKE_CALLS: join(dir, 'calls'),
        ...env,
      },
    });

  it('connects to the master VIP (storage.cfg is cluster-wide), through the configured bastion if there is one', () => {
    expect(push.connection).toMatchObject({ host: '10.254.0.254', port: 22, user: 'root' });
    expect(push.connection).not.toHaveProperty('bastion_host');
    const jump = modelOf(edit(exampleText(), '  resource_type: null_resource', '  resource_type: null_resource\n  bastion: { host: jump.example.com, port: 2222 }'));
    const [, viaJump] = resourceStartingWith(synthGuests(jump).stacks.get('gateway'), 'null_resource', 'nas-storage-rack-a-1-1_storage_push_');
    expect(viaJump.connection).toMatchObject({ host: '10.254.0.254', bastion_host: 'jump.example.com', bastion_port: 2222, bastion_user: 'root' });
  });

  it('passes shellcheck', () => {
    const result = spawnSync('shellcheck', ['-s', 'bash', join(dir, 'bundle.sh')], { encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('adds the NFS storage named after the NAS hostname, for backups, ISOs and templates only; a second run changes nothing', () => {
    writeFileSync(join(pveDir, 'storage.cfg'), LOCAL);
    const first = run();
    expect(first.status).toBe(0);
    expect(calls()).toEqual([
      `add nfs ${ID} --server 10.253.1.1 --export /export/${ID} --content backup,iso,vztmpl`,
      `status --storage ${ID}`,
    ]);
    expect(cfg()).toBe(`${LOCAL}nfs: ${ID}\n\tserver 10.253.1.1\n\texport /export/${ID}\n\tcontent backup,iso,vztmpl\n\n`);
    expect(readFileSync(join(dir, 'cias.log'), 'utf8')).toContain(`added NFS storage ${ID}`);

    const before = cfg();
    const second = run();
    expect(second.status).toBe(0);
    expect(calls().slice(2)).toEqual([`status --storage ${ID}`]);
    expect(cfg()).toBe(before);
    expect(second.stderr).toContain(`storage ${ID} unchanged`);
  });

  it('treats the same content types in another order as unchanged', () => {
    writeFileSync(join(pveDir, 'storage.cfg'), LOCAL + section({ content: 'vztmpl,backup,iso' }));
    expect(run().status).toBe(0);
    expect(calls()).toEqual([`status --storage ${ID}`]);
  });

  it('updates changed content types in place with pvesm set', () => {
    writeFileSync(join(pveDir, 'storage.cfg'), LOCAL + section({ content: 'iso' }));
    expect(run().status).toBe(0);
    expect(calls()).toEqual([`set ${ID} --content backup,iso,vztmpl`, `status --storage ${ID}`]);
    expect(cfg()).toContain('\tcontent backup,iso,vztmpl\n');
  });

  it.each([
    ['another export path', { exportPath: '/srv/old' }, /exports \/srv\/old, not \/export\//],
    ['another server', { server: '10.253.1.9' }, /points at server 10.253.1.9, not 10.253.1.1/],
    ['another storage type', { type: 'dir' }, /exists with type dir, not nfs/],
  ])('refuses (exit 4) and changes nothing when the existing storage has %s', (_what, existing, message) => {
    const text = LOCAL + section(existing);
    writeFileSync(join(pveDir, 'storage.cfg'), text);
    const result = run();
    expect(result.status).toBe(4);
    expect(result.stderr).toMatch(message);
    expect(calls()).toEqual([]);
    expect(cfg()).toBe(text);
  });

  it('warns but succeeds when the storage is registered and the NAS does not answer', () => {
    writeFileSync(join(pveDir, 'storage.cfg'), LOCAL + section());
    const result = run({ FAKE_STATUS_FAIL: '1' });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`warning: storage ${ID} is registered but not active`);
  });

  it('stops with exit 3 on a host without pvesm (not a Proxmox VE node)', () => {
    const result = run({}, false);
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('pvesm not found');
  });

  it('re-runs only when the NAS definition changes', () => {
    const changed = modelOf(edit(exampleText(), '    ip: 10.253.1.1\n', '    ip: 10.253.1.1\n    content: [backup]\n'));
    const [, other] = resourceStartingWith(synthGuests(changed).stacks.get('gateway'), 'null_resource', 'nas-storage-rack-a-1-1_storage_push_');
    expect(other.triggers.bundle_sha256).not.toBe(push.triggers.bundle_sha256);
    expect(pushedBundle(other)).toContain(`cias_register_nfs_storage '${ID}' '10.253.1.1' '/export/${ID}' 'backup'`);
  });
});

describe('nasStorageBundle', () => {
  const nas: NasModel = { name: 'nas-r-a-1-1', fqdn: 'nas.r.a.1-1.example.com', ip: '10.253.1.1', exportPath: '/e', content: ['iso'], webPort: 80 };

  it('never registers VM images or container volumes on a NAS', () => {
    expect(() => nasStorageBundle({ ...nas, content: ['images' as 'iso'] })).toThrow(/never VM images/);
    expect(() => nasStorageBundle({ ...nas, content: [] })).toThrow(/non-empty/);
  });
});
