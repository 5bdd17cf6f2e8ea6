import { spawn } from 'child_process';
import { createServer, IncomingMessage, Server } from 'http';
import { AddressInfo } from 'net';
import { rmSync } from 'fs';
import { join } from 'path';
import { edit, exampleText, modelOf } from '../helpers/cluster-text';
import { StackJson, synthAll } from '../helpers/synth';

type Backends = Record<string, Record<string, unknown>>;

function backendsOf(stateYaml: string): Map<string, Backends> {
  const text = edit(exampleText(), 'provisioning:', `${stateYaml}\nprovisioning:`);
  const { outdir, stacks } = synthAll(modelOf(text));
  rmSync(outdir, { recursive: true, force: true });
  return new Map([...stacks].map(([name, json]) => [name, (json.terraform as { backend: Backends }).backend]));
}

describe('state backends: one state per stack, locking, no credentials in the configuration', () => {
  it('local by default: terraform.<stack>.tfstate in the project directory', () => {
    const { outdir, stacks } = synthAll(modelOf(exampleText()));
    rmSync(outdir, { recursive: true, force: true });
    for (const [name, json] of stacks) {
      expect((json.terraform as { backend: Backends }).backend).toEqual({ local: { path: join(process.cwd(), `terraform.${name}.tfstate`) } });
    }
  });

  it('pg: a schema per stack; the connection string stays in PG_CONN_STR', () => {
    const backends = backendsOf('state:\n  backend: pg\n  schema_prefix: ops');
    expect(backends.get('hosts')).toEqual({ pg: { schema_name: 'ops_hosts' } });
    expect(backends.get('vms-e10')).toEqual({ pg: { schema_name: 'ops_vms_e10' } });
  });

  it('s3: a key per stack, encrypted, S3 lock file unless a DynamoDB table is given', () => {
    const backends = backendsOf('state:\n  backend: s3\n  bucket: cias-state\n  region: eu-west-1\n  endpoint: https://minio.example.com');
    expect(backends.get('gateway')).toEqual({
      s3: {
        bucket: 'cias-state',
        key: 'cias/gateway.tfstate',
        region: 'eu-west-1',
        encrypt: true,
        use_lockfile: true,
        endpoints: { s3: 'https://minio.example.com' },
        use_path_style: true,
      },
    });
    const dynamo = backendsOf('state:\n  backend: s3\n  bucket: cias-state\n  region: eu-west-1\n  dynamodb_table: locks');
    expect(dynamo.get('hosts')!.s3).toMatchObject({ dynamodb_table: 'locks', key: 'cias/hosts.tfstate' });
    expect(dynamo.get('hosts')!.s3).not.toHaveProperty('use_lockfile');
  });

  it('rejects an unknown backend with the allowed ones', () => {
    expect(() => modelOf(edit(exampleText(), 'provisioning:', 'state:\n  backend: consul\nprovisioning:'))).toThrow(/state\.backend: consul is not one of local, pg, s3, http/);
  });

  describe('http: a real terraform init/apply against a lab state server, with locking', () => {
    let server: Server;
    let base: string;
    const states = new Map<string, string>();
    const requests: string[] = [];
    const locks = new Map<string, string>();

    beforeAll(async () => {
      server = createServer((req: IncomingMessage, res) => {
        let body = '';
        req.on('data', (chunk) => (body += chunk));
        req.on('end', () => {
          const path = (req.url ?? '').split('?')[0];
          requests.push(`${req.method} ${path}`);
          if (req.method === 'LOCK') {
            if (locks.has(path)) return res.writeHead(423).end(locks.get(path));
            locks.set(path, body);
            return res.writeHead(200).end();
          }
          if (req.method === 'UNLOCK') {
            locks.delete(path);
            return res.writeHead(200).end();
          }
          if (req.method === 'GET') return states.has(path) ? res.writeHead(200).end(states.get(path)) : res.writeHead(404).end();
          if (req.method === 'POST') {
            states.set(path, body);
            return res.writeHead(200).end();
          }
          return res.writeHead(405).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/state`;
    });

    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('keeps the hosts stack state at <address>/hosts and takes the lock while applying', async () => {
      const text = edit(
        edit(exampleText(), 'resource_type: null_resource', 'resource_type: terraform_data'),
        'provisioning:',
        `state:\n  backend: http\n  address: ${base}/\nprovisioning:`,
      );
      const { outdir, stacks } = synthAll(modelOf(text));
      try {
        const hosts = stacks.get('hosts') as StackJson;
        expect((hosts.terraform as { backend: Backends }).backend).toEqual({
          http: { address: `${base}/hosts`, lock_address: `${base}/hosts`, unlock_address: `${base}/hosts` },
        });
        // Only the backend is exercised here: an empty configuration with the synthesized backend block.
        const dir = join(outdir, 'stacks', 'hosts');
        const { writeFileSync } = await import('fs');
        writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify({ terraform: hosts.terraform, resource: { terraform_data: { marker: { input: 'x' } } } }));
        await new Promise<void>((resolve, reject) => {
          const child = spawn('terraform', ['init', '-input=false', '-no-color'], { cwd: dir, env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' } });
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`init exit ${code}`))));
        });
        await new Promise<void>((resolve, reject) => {
          const child = spawn('terraform', ['apply', '-auto-approve', '-input=false', '-no-color'], { cwd: dir, env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null' } });
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`apply exit ${code}`))));
        });
        expect(JSON.parse(states.get('/state/hosts')!).resources[0]).toMatchObject({ type: 'terraform_data', name: 'marker' });
        expect(requests).toEqual(expect.arrayContaining(['LOCK /state/hosts', 'POST /state/hosts', 'UNLOCK /state/hosts']));
        expect(locks.size).toBe(0);
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    });
  });
});
