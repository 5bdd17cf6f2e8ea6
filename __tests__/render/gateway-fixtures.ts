/**
 * Shared by the gateway tests: a small cluster, scratch directories, throwaway network namespaces
 * (names start with `gw-`, removed in afterAll even when a test fails) and a runner for checkers.
 */
import { spawnSync, SpawnSyncOptions } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { GatewayBundleParams, GatewayVm } from '../../render/gateway';

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], options: SpawnSyncOptions = {}): RunResult {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (result.error) throw result.error;
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export function mustRun(command: string, args: readonly string[], options: SpawnSyncOptions = {}): string {
  const result = run(command, args, options);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} → ${result.status}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

export function scratchDir(label: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `cias-gw-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Network namespaces this test file created; `removeAll` deletes them (call it from afterAll). */
export class Netns {
  private readonly names: string[] = [];

  create(label: string): string {
    const name = `gw-${label}-${process.pid % 100000}`.slice(0, 15);
    run('ip', ['netns', 'del', name]);
    mustRun('ip', ['netns', 'add', name]);
    this.names.push(name);
    mustRun('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  exec(ns: string, command: string, args: readonly string[], options: SpawnSyncOptions = {}): RunResult {
    return run('ip', ['netns', 'exec', ns, command, ...args], options);
  }

  mustExec(ns: string, command: string, args: readonly string[], options: SpawnSyncOptions = {}): string {
    return mustRun('ip', ['netns', 'exec', ns, command, ...args], options);
  }

  removeAll(): void {
    for (const name of this.names.splice(0)) run('ip', ['netns', 'del', name]);
  }
}

/** A VM of SPEC §3 with the default port rule on both protocols. */
export function tenantVm(vmid: number, overrides: GatewayVm['portForwards'] = [], externalBase = 104): GatewayVm {
  const e = Math.floor(vmid / 1000);
  const p = vmid % 1000;
  const hex = vmid.toString(16).padStart(6, '0');
  return {
    vmid,
    name: `vm${vmid}`,
    mac: `02:c1:a5:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`,
    internalIp: `10.${e}.${Math.floor(p / 100)}.${p % 100}`,
    externalIndex: e,
    externalIp: `192.168.56.${externalBase + e}`,
    portForwards: overrides,
    defaultRuleProtocols: ['tcp', 'udp'],
  };
}

export const VM_10501 = tenantVm(10501, [
  { externalPort: 50122, internalPort: 2222, protocol: 'tcp' },
  { externalPort: 50100, internalPort: 8443, protocol: 'tcp' },
]);

export function exampleBundleParams(): GatewayBundleParams {
  return {
    wanPrefix: 24,
    wanGateway: '192.168.56.1',
    proxmoxManagementIp: '192.168.56.102',
    nasManagementIp: '192.168.56.103',
    vmManagementIps: [
      { index: 0, ip: '192.168.56.104' },
      { index: 10, ip: '192.168.56.114' },
    ],
    proxmoxNodeIps: ['10.254.1.1', '10.254.1.2'],
    nas: [
      {
        hostname: 'nas.rack-b.a.1-1.example.com',
        ip: '10.253.1.1',
        managementForwards: [
          { externalPort: 2049, internalPort: 2049, protocol: 'tcp' },
          { externalPort: 2222, internalPort: 22, protocol: 'tcp' },
        ],
      },
    ],
    vms: [{ ...tenantVm(101), dnsNames: ['first.example.com'] }, VM_10501],
    reverseProxies: [{ serverName: 'app.example.com', upstream: 'http://10.10.5.1:8080' }],
    redirects: [{ fromHost: 'www.example.com', toUrl: 'https://example.org/welcome' }],
    dns: { zone: 'example.com', names: [{ name: 'pve.example.com', ip: '192.168.56.102' }] },
  };
}
