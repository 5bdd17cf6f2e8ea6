/**
 * The validated, normalized cluster: what every later layer reads. Defaults are applied, derived
 * values (hostnames, VMIDs, IPs, MACs, port ranges) are computed once here.
 */
import { PortRange } from './addressing';

export type Protocol = 'tcp' | 'udp';

export interface SshEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
}

export interface DataDisk {
  /** Device name under /dev, e.g. `sdb`. */
  readonly device: string;
  readonly filesystem: 'xfs' | 'ext4';
  readonly force: boolean;
  /** `/data/<device>`. */
  readonly mountPoint: string;
}

export interface NodeModel {
  /** Proxmox node name, a DNS label: `pve-<rack>-<position>-<o3>-<o4>`. Stable logical-ID source. */
  readonly name: string;
  /** `pve.<rack>.<position>.<o3>-<o4>.<domain>`. */
  readonly fqdn: string;
  readonly rack: string;
  readonly position: string;
  readonly ip: string;
  /** cluster.yaml priority, 0..100. */
  readonly priority: number;
  readonly meetsMinimum: boolean;
  /** Meets the hardware minimum and has a priority above 0: may hold the master role. */
  readonly canBeMaster: boolean;
  readonly isBootstrap: boolean;
  readonly lanInterface: string;
  readonly wanInterface: string;
  readonly disks: readonly DataDisk[];
  readonly ssh: SshEndpoint;
}

export interface NasModel {
  readonly name: string;
  readonly fqdn: string;
  readonly ip: string;
  readonly exportPath: string;
  readonly content: readonly ('backup' | 'iso' | 'vztmpl')[];
  readonly webPort: number;
}

export interface RetiredAddress {
  readonly ip: string;
  readonly hostname: string;
  readonly retiredOn?: string;
}

export interface VmManagementIp {
  readonly index: number;
  readonly ip: string;
}

export interface WanModel {
  readonly netmask: string;
  readonly prefixLength: number;
  readonly gateway: string;
  readonly masterIp: string;
  readonly proxmoxMgmtIp: string;
  readonly nasMgmtIp: string;
  /** Sorted by index. */
  readonly vmMgmtIps: readonly VmManagementIp[];
}

export interface PortForward {
  readonly externalPort: number;
  readonly internalPort: number;
  readonly protocol: Protocol;
}

export interface VmDisk {
  readonly slot: string;
  readonly sizeGb: number;
  readonly storage: string;
}

export interface VmModel {
  readonly vmid: number;
  readonly name: string;
  readonly externalIndex: number;
  readonly a: number;
  readonly b: number;
  /** `10.E.a.b`. */
  readonly ip: string;
  /** The VM-management IP with index E. */
  readonly externalIp: string;
  /** `P*100 .. P*100+99` on externalIp. */
  readonly ports: PortRange;
  /**
   * Explicit forwards from cluster.yaml, one per protocol. Every other port of the range follows the
   * default rule: external suffix 01..99 → the same internal port.
   */
  readonly portOverrides: readonly PortForward[];
  /** Proxmox node name. */
  readonly node: string;
  readonly template: string;
  readonly fullClone: boolean;
  readonly cores: number;
  readonly sockets: number;
  readonly memoryMb: number;
  readonly disks: readonly VmDisk[];
  readonly mac: string;
  readonly cloudInit: boolean;
  readonly onboot: boolean;
  readonly tags: readonly string[];
  readonly dnsNames: readonly string[];
  readonly description?: string;
  /** Position in cluster.yaml's vms list: for messages only, never for identity. */
  readonly sourceIndex: number;
}

export interface GatewayModel {
  readonly vmid: number;
  readonly name: string;
  readonly node: string;
  readonly template: string;
  readonly fullClone: boolean;
  readonly storage: string;
  readonly memoryMb: number;
  readonly diskGb: number;
  readonly cores: number;
  readonly mac: string;
  readonly lanIp: string;
  readonly wanInterface: string;
  readonly lanInterface: string;
  readonly ssh: SshEndpoint;
  readonly dnsNames: readonly { readonly name: string; readonly ip: string }[];
  readonly reverseProxies: readonly { readonly serverName: string; readonly upstream: string }[];
  readonly redirects: readonly { readonly fromHost: string; readonly toUrl: string }[];
}

export interface WeeklyTime {
  readonly day: 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
  readonly time: string;
}

export type StateBackend =
  | { readonly backend: 'local'; readonly directory: string }
  | { readonly backend: 'pg'; readonly schemaPrefix: string }
  | {
      readonly backend: 's3';
      readonly bucket: string;
      readonly keyPrefix: string;
      readonly region: string;
      readonly endpoint?: string;
      readonly dynamodbTable?: string;
    }
  | { readonly backend: 'http'; readonly address: string };

export interface ClusterModel {
  /** Path of the cluster.yaml this came from. */
  readonly source: string;
  readonly name: string;
  readonly domain: string;
  readonly notifyEmail?: string;
  readonly wan: WanModel;
  readonly keepalived: {
    readonly virtualRouterId: number;
    readonly advertInt: number;
    readonly unicast: boolean;
    readonly auth: boolean;
  };
  readonly moosefs: { readonly trashTimeSeconds: number; readonly goal: number };
  /** In file order. */
  readonly nodes: readonly NodeModel[];
  readonly bootstrap: NodeModel;
  readonly retired: readonly RetiredAddress[];
  readonly nas: readonly NasModel[];
  readonly gateway: GatewayModel;
  /** In VMID order. */
  readonly vms: readonly VmModel[];
  readonly schedules: {
    readonly gatewayBackup: WeeklyTime;
    readonly vmBackup: WeeklyTime;
    readonly gatewayBackupCopy: string;
    readonly uplinkWatchdog: string;
    readonly vmidExport: string;
    readonly liveness: string;
  };
  readonly watchdog: { readonly probeTarget: string; readonly shutdownDelayMinutes: number };
  readonly liveness: { readonly deadAfterMinutes: number };
  readonly provisioning: {
    readonly resourceType: 'null_resource' | 'terraform_data';
    readonly bastion?: SshEndpoint;
    readonly allowMasterRemoval: boolean;
    /** Key file for destroy-time provisioners. */
    readonly sshKeyFile?: string;
  };
  readonly state: StateBackend;
  readonly proxmox: {
    readonly apiUrl: string;
    readonly tlsInsecure: boolean;
    readonly parallel: number;
    readonly minimumPermissionCheck: boolean;
  };
}
