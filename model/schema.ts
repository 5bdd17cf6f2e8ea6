/**
 * The cluster.yaml contract: one zod schema is the source of the validator, of `cluster.schema.json`
 * (scripts/write-schema.ts) and of the README's field reference. Structural rules live here;
 * rules that relate fields to each other live in validate.ts.
 */
import { z } from 'zod';
import { MAX_EXTERNAL_INDEX, MAX_RACK_ROW, MAX_SLOT } from './addressing';
import { isIpv4 } from './ipv4';

const ipv4 = (description: string) =>
  z.string().refine(isIpv4, { message: 'is not an IPv4 address (expected a.b.c.d)' }).describe(description);

const label = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const hostLabel = (description: string) =>
  z
    .string()
    .regex(label, { message: 'is not a hostname label (lower-case letters, digits, inner dashes, 1..32 chars)' })
    .describe(description);

const domainName = /^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const dayOfWeek = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const clockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'is not a time of day (expected HH:MM, 24-hour)' });
const cronField = /^(\*|\d+(-\d+)?(,\d+(-\d+)?)*)(\/\d+)?$/;
const cronSchedule = (description: string, fallback: string) =>
  z
    .string()
    .refine((text) => text.trim().split(/\s+/).length === 5 && text.trim().split(/\s+/).every((f) => cronField.test(f)), {
      message: 'is not a 5-field cron schedule (minute hour day-of-month month day-of-week)',
    })
    .default(fallback)
    .describe(description);
const deviceName = z
  .string()
  .regex(/^(sd[a-z]{1,2}|vd[a-z]{1,2}|xvd[a-z]{1,2}|hd[a-z]|nvme\d+n\d+)$/, {
    message: 'is not a whole-disk device name (expected sdb, vdc, nvme1n1 …; no /dev/ prefix, no partition)',
  });
const mac = z
  .string()
  .regex(/^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$/, { message: 'is not a MAC address (expected xx:xx:xx:xx:xx:xx)' });
const port = z.number().int().min(1).max(65535);
const protocol = z.enum(['tcp', 'udp', 'both']);

export const sshSchema = z
  .strictObject({
    host: z.string().min(1).optional().describe('Address terraform connects to. @default the node\'s internal ip'),
    port: port.default(22).describe('SSH port. @default 22'),
    user: z.string().min(1).default('root').describe('SSH user (must be root or have passwordless sudo). @default root'),
  })
  .describe('How terraform reaches this host over SSH. The private key comes from TF_VAR_cias_ssh_private_key or ssh-agent, never from this file.');

export const diskSchema = z.strictObject({
  device: deviceName.describe('Whole-disk device name under /dev, e.g. sdb. Mounted at /data/<device>.'),
  filesystem: z.enum(['xfs', 'ext4']).default('xfs').describe('Filesystem for the chunk disk. @default xfs'),
  force: z
    .boolean()
    .default(false)
    .describe('Format even when the disk already holds a filesystem (destroys its data). @default false'),
});

export const nodeSchema = z.strictObject({
  rack: hostLabel('Rack code, part of the hostname (pve.<rack>.<position>.<o3>-<o4>.<domain>).'),
  position: hostLabel('Position in the rack, part of the hostname.'),
  ip: ipv4(`Internal IP, ${'10.254.{1..5}.{1..99}'}. Never reuse a retired one.`),
  priority: z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(50)
    .describe('keepalived priority 0..100; the highest live master-capable node wins. @default 50'),
  meets_minimum: z
    .boolean()
    .default(true)
    .describe('Whether the node meets the hardware minimum (VT-x/AMD-V, 8 GB RAM, 80 GB disk). A node that does not never becomes master. @default true'),
  lan_interface: z.string().min(1).default('vmbr0').describe('Bridge holding the internal addresses and the 10.254.0.254 VIP. @default vmbr0'),
  wan_interface: z.string().min(1).default('vmbr0').describe('Interface that holds the master external IP when this node is master. @default vmbr0'),
  disks: z.array(diskSchema).default([]).describe('MooseFS chunk disks. Only these are ever formatted. @default []'),
  ssh: sshSchema.prefault({}),
});

export const retiredSchema = z.strictObject({
  ip: ipv4('Internal IP of a node or NAS that left the cluster; never given out again.'),
  hostname: z.string().min(1).describe('Its fully qualified hostname; never given out again.'),
  retired_on: z.string().optional().describe('When it left (free text, e.g. 2026-03-01).'),
});

export const nasSchema = z.strictObject({
  rack: hostLabel('Rack code, part of the hostname (nas.<rack>.<position>.<o3>-<o4>.<domain>).'),
  position: hostLabel('Position in the rack.'),
  ip: ipv4('Internal IP, 10.253.{1..5}.{1..99}.'),
  export_path: z
    .string()
    .regex(/^\/[^\s]*$/, { message: 'is not an absolute path' })
    .optional()
    .describe('NFS export path on the NAS. @default /export/<nas hostname>'),
  content: z
    .array(z.enum(['backup', 'iso', 'vztmpl']))
    .min(1)
    .default(['backup', 'iso', 'vztmpl'])
    .describe('Proxmox content types on this storage; never VM images. @default [backup, iso, vztmpl]'),
  web_port: port.default(80).describe('Port of the NAS web UI the gateway proxies on the NAS-management IP. @default 80'),
});

export const vmMgmtIpSchema = z.strictObject({
  index: z.number().int().min(0).max(MAX_EXTERNAL_INDEX).describe(`Index E, 0..${MAX_EXTERNAL_INDEX}: the first part of the VMIDs it serves.`),
  ip: ipv4('External IP on the gateway for VMs of index E.'),
});

export const wanSchema = z.strictObject({
  netmask: ipv4('External netmask, e.g. 255.255.255.0.'),
  gateway: ipv4('External default gateway.'),
  master_ip: ipv4('Master external IP; floats with the master role.'),
  proxmox_mgmt_ip: ipv4('Gateway IP for Proxmox management and the gateway web UI; must hold DNS delegation.'),
  nas_mgmt_ip: ipv4('Gateway IP for NAS management.'),
  vm_mgmt_ips: z.array(vmMgmtIpSchema).min(1).describe('VM-management IPs by index E (0..250).'),
});

export const keepalivedSchema = z.strictObject({
  virtual_router_id: z.number().int().min(1).max(255).default(51).describe('VRRP router id, unique on the segment. @default 51'),
  advert_int: z.number().int().min(1).max(255).default(1).describe('Advertisement interval, seconds. @default 1'),
  unicast: z.boolean().default(false).describe('Send adverts to the other master-capable nodes instead of multicast. @default false'),
  auth: z
    .boolean()
    .default(false)
    .describe('VRRP PASS authentication; the password (≤ 8 chars) comes from TF_VAR_cias_vrrp_auth_pass. @default false'),
});

export const moosefsSchema = z.strictObject({
  trash_time_seconds: z
    .number()
    .int()
    .min(0)
    .max(604800)
    .default(3600)
    .describe('How long deleted files stay in the MooseFS trash (SPEC: short). @default 3600'),
  goal: z.number().int().min(1).max(9).default(2).describe('Copies of every chunk. @default 2'),
});

const diskSpec = z.strictObject({
  size_gb: z.number().int().min(1).max(65536).describe('Disk size in GiB.'),
  storage: z.string().min(1).default('a_mfs').describe('Proxmox storage. @default a_mfs'),
  slot: z
    .string()
    .regex(/^(scsi([0-9]|[1-2][0-9]|30)|virtio([0-9]|1[0-5])|sata[0-5]|ide[0-3])$/, {
      message: 'is not a disk slot (scsi0..30, virtio0..15, sata0..5, ide0..3)',
    })
    .default('scsi0')
    .describe('Controller slot. @default scsi0'),
});

export const gatewaySchema = z.strictObject({
  vmid: z.number().int().default(100).describe('Must be 100 (SPEC).'),
  node: z.string().optional().describe('Node (name or internal IP) that runs the gateway. @default the bootstrap node'),
  template: z.string().min(1).default('zentyal-template').describe('Proxmox template to clone. @default zentyal-template'),
  full_clone: z.boolean().default(true).describe('@default true'),
  storage: z.string().min(1).default('a_mfs').describe('@default a_mfs'),
  memory_mb: z.number().int().min(512).default(2048).describe('@default 2048'),
  disk_gb: z.number().int().min(4).default(4).describe('@default 4'),
  cores: z.number().int().min(1).max(64).default(2).describe('@default 2'),
  wan_interface: z.string().min(1).default('eth0').describe('Gateway interface holding the external addresses. @default eth0'),
  lan_interface: z.string().min(1).default('eth0').describe('Gateway interface holding 10.0.0.254/8 (one virtio NIC carries both). @default eth0'),
  ssh: sshSchema.prefault({}).describe('How the master reaches the gateway (SSH is only accepted from 10.254.0.254). @default host 10.0.0.254'),
  dns_names: z
    .array(z.strictObject({ name: z.string().regex(domainName, { message: 'is not a domain name' }), ip: ipv4('Address the name resolves to.') }))
    .default([])
    .describe('Extra DNS A records served by the gateway. @default []'),
  reverse_proxies: z
    .array(
      z.strictObject({
        server_name: z.string().regex(domainName, { message: 'is not a domain name' }),
        upstream: z.string().regex(/^https?:\/\/[^\s]+$/, { message: 'is not an http(s) URL' }),
      }),
    )
    .default([])
    .describe('Reverse-proxy entries on the Proxmox-management IP. @default []'),
  redirects: z
    .array(
      z.strictObject({
        from_host: z.string().regex(domainName, { message: 'is not a domain name' }),
        to_url: z.string().regex(/^https?:\/\/[^\s]+$/, { message: 'is not an http(s) URL' }),
      }),
    )
    .default([])
    .describe('URL redirects served on the Proxmox-management IP. @default []'),
});

export const portOverrideSchema = z.strictObject({
  external: port.describe('External port; must lie in the VM\'s own range P*100..P*100+99.'),
  internal: port.describe('Port on the VM.'),
  protocol: protocol.default('both').describe('@default both'),
});

export const vmDefaultsSchema = z.strictObject({
  template: z.string().min(1).optional().describe('Template to clone when a VM names none.'),
  full_clone: z.boolean().default(true).describe('@default true'),
  cores: z.number().int().min(1).max(128).default(1).describe('@default 1'),
  sockets: z.number().int().min(1).max(4).default(1).describe('@default 1'),
  memory_mb: z.number().int().min(64).default(1024).describe('@default 1024'),
  disk_gb: z.number().int().min(1).default(10).describe('Size of scsi0 when a VM lists no disks. @default 10'),
  storage: z.string().min(1).default('a_mfs').describe('@default a_mfs'),
  cloud_init: z.boolean().default(true).describe('Set ipconfig0 = ip=10.E.a.b/8,gw=10.0.0.254. @default true'),
  onboot: z.boolean().default(true).describe('@default true'),
});

export const vmSchema = z.strictObject({
  vmid: z.number().int().optional().describe('Tenant VMID E*1000 + a*100 + b. Give either vmid or slot.'),
  slot: z
    .strictObject({
      e: z.number().int().min(0).max(MAX_EXTERNAL_INDEX),
      a: z.number().int().min(1).max(MAX_RACK_ROW),
      b: z.number().int().min(1).max(MAX_SLOT),
    })
    .optional()
    .describe('The VMID as its parts: e (VM-management IP index), a, b.'),
  name: hostLabel('VM name (a DNS label).'),
  node: z.string().min(1).describe('Node that runs the VM: its Proxmox name (pve-<rack>-<pos>-<o3>-<o4>) or internal IP.'),
  template: z.string().min(1).optional().describe('Template to clone. @default vm_defaults.template'),
  full_clone: z.boolean().optional().describe('@default vm_defaults.full_clone'),
  cores: z.number().int().min(1).max(128).optional().describe('@default vm_defaults.cores'),
  sockets: z.number().int().min(1).max(4).optional().describe('@default vm_defaults.sockets'),
  memory_mb: z.number().int().min(64).optional().describe('@default vm_defaults.memory_mb'),
  disks: z.array(diskSpec).optional().describe('@default one scsi0 disk of vm_defaults.disk_gb'),
  mac: mac.optional().describe('@default 02:C1:A5 + the VMID in hex'),
  cloud_init: z.boolean().optional().describe('@default vm_defaults.cloud_init'),
  onboot: z.boolean().optional().describe('@default vm_defaults.onboot'),
  tags: z.array(hostLabel('tag')).default([]).describe('@default []'),
  ports: z.array(portOverrideSchema).default([]).describe('Overrides of the default rule (external suffix = internal port). @default []'),
  dns_names: z.array(z.string().regex(domainName, { message: 'is not a domain name' })).default([]).describe('A records pointing at the VM\'s VM-management IP. @default []'),
  description: z.string().optional(),
});

export const schedulesSchema = z.strictObject({
  gateway_backup: z
    .strictObject({ day: dayOfWeek.default('mon'), time: clockTime.default('02:00') })
    .prefault({})
    .describe('vzdump of VMID 100 to mfs-backup, snapshot, no compression. @default mon 02:00'),
  vm_backup: z
    .strictObject({ day: dayOfWeek.default('sun'), time: clockTime.default('02:00') })
    .prefault({})
    .describe('vzdump of every VM but 100 to a_mfs, snapshot, gzip. @default sun 02:00'),
  gateway_backup_copy: cronSchedule('Local copy of the newest gateway dump. @default "0 4 * * 1"', '0 4 * * 1'),
  uplink_watchdog: cronSchedule('@default "*/3 * * * *"', '*/3 * * * *'),
  vmid_export: cronSchedule('Master exports the VMID list. @default "*/10 * * * *"', '*/10 * * * *'),
  liveness: cronSchedule('Master checks every node. @default "*/5 * * * *"', '*/5 * * * *'),
});

export const watchdogSchema = z.strictObject({
  probe_target: z
    .string()
    .min(1)
    .default('8.8.8.8')
    .describe('Outside address the uplink watchdog pings. @default 8.8.8.8'),
  shutdown_delay_minutes: z.number().int().min(1).max(1440).default(15).describe('@default 15'),
});

export const livenessSchema = z.strictObject({
  dead_after_minutes: z.number().int().min(10).max(10080).default(30).describe('Silence before a node is removed (scenario 6). @default 30'),
});

export const provisioningSchema = z.strictObject({
  resource_type: z
    .enum(['null_resource', 'terraform_data'])
    .default('null_resource')
    .describe('Resource that carries the SSH provisioners. @default null_resource'),
  bastion: z
    .strictObject({ host: z.string().min(1), port: port.default(22), user: z.string().min(1).default('root') })
    .optional()
    .describe('Optional SSH jump host.'),
  ssh_key_file: z
    .string()
    .regex(/^[^\s]+$/, { message: 'is not a file path' })
    .optional()
    .describe('Private key file used when a node is removed (destroy-time provisioners cannot read variables). @default none: ssh-agent'),
  allow_master_removal: z
    .boolean()
    .default(false)
    .describe('Allow removing the bootstrap node from nodes (runs scenario 5 on it). @default false'),
});

export const proxmoxSchema = z.strictObject({
  api_url: z
    .string()
    .regex(/^https:\/\/[^\s/]+(:\d+)?\/api2\/json$/, { message: 'is not a Proxmox API URL (https://host:8006/api2/json)' })
    .optional()
    .describe('@default https://<wan.master_ip>:8006/api2/json'),
  tls_insecure: z.boolean().default(false).describe('@default false'),
  parallel: z.number().int().min(1).max(16).default(2).describe('@default 2'),
  minimum_permission_check: z.boolean().default(true).describe('@default true'),
});

const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'is not an S3 bucket name' });

export const stateSchema = z
  .discriminatedUnion('backend', [
    z.strictObject({
      backend: z.literal('local'),
      directory: z.string().min(1).default('.').describe('Directory of terraform.<stack>.tfstate, relative to the project. @default .'),
    }),
    z.strictObject({
      backend: z.literal('pg'),
      schema_prefix: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,40}$/, { message: 'is not a PostgreSQL identifier prefix' })
        .default('cias')
        .describe('Each stack keeps its state in schema <prefix>_<stack>. The connection string comes from PG_CONN_STR. @default cias'),
    }),
    z.strictObject({
      backend: z.literal('s3'),
      bucket: bucketName.describe('Bucket; credentials from the AWS_* environment.'),
      key_prefix: z.string().regex(/^[A-Za-z0-9._\/-]+$/, { message: 'is not an S3 key prefix' }).default('cias').describe('@default cias'),
      region: z.string().min(1).describe('Bucket region.'),
      endpoint: z.string().regex(/^https?:\/\/\S+$/, { message: 'is not an http(s) URL' }).optional().describe('S3-compatible endpoint (MinIO, Ceph). @default AWS'),
      dynamodb_table: z.string().min(1).optional().describe('Lock table; without it the S3 lock file is used. @default S3 lock file'),
    }),
    z.strictObject({
      backend: z.literal('http'),
      address: z.string().regex(/^https?:\/\/\S+$/, { message: 'is not an http(s) URL' }).describe('Base URL; each stack uses <address>/<stack> for state and locks. Credentials from TF_HTTP_USERNAME / TF_HTTP_PASSWORD.'),
    }),
  ])
  .describe('Where terraform keeps state: one state per stack, with locking; credentials only from the environment. @default local');

export const clusterSchema = z.strictObject({
  cluster: z
    .strictObject({
      name: z
        .string()
        .regex(/^[A-Za-z0-9-]{1,15}$/, { message: 'is not a Proxmox cluster name (letters, digits, dashes, ≤ 15)' })
        .default('DLLL-CIAS')
        .describe('@default DLLL-CIAS'),
      domain: z.string().regex(domainName, { message: 'is not a domain name (e.g. example.com)' }).describe('Domain of every hostname.'),
      notify_email: z.email({ message: 'is not an e-mail address' }).optional().describe('Where scenario scripts send notices. @default none: logged only'),
    })
    .describe('Cluster identity.'),
  wan: wanSchema.describe('External (WAN) side.'),
  bootstrap_node: ipv4('Internal IP of the node that creates the cluster (the first master).'),
  nodes: z.array(nodeSchema).min(1).max(1270).describe('Proxmox nodes, 1..1270.'),
  retired: z.array(retiredSchema).default([]).describe('Addresses and hostnames that left; kept forever. @default []'),
  nas: z.array(nasSchema).default([]).describe('NFS NAS for backups, ISOs and templates. @default []'),
  keepalived: keepalivedSchema.prefault({}).describe('VRRP settings shared by every node.'),
  moosefs: moosefsSchema.prefault({}).describe('MooseFS settings.'),
  gateway: gatewaySchema.prefault({}).describe('The Zentyal gateway VM (VMID 100) and its network rules.'),
  vm_defaults: vmDefaultsSchema.prefault({}).describe('Defaults for every tenant VM.'),
  vms: z.array(vmSchema).default([]).describe('Tenant VMs. @default []'),
  schedules: schedulesSchema.prefault({}).describe('Backup jobs and cron times.'),
  watchdog: watchdogSchema.prefault({}).describe('Power/uplink watchdog on every node.'),
  liveness: livenessSchema.prefault({}).describe('Master-side node liveness check.'),
  provisioning: provisioningSchema.prefault({}).describe('How terraform pushes files to nodes.'),
  state: stateSchema.default({ backend: 'local', directory: '.' }),
  proxmox: proxmoxSchema.prefault({}).describe('Proxmox API provider settings; credentials come from PM_API_TOKEN_ID / PM_API_TOKEN_SECRET.'),
});

/** cluster.yaml as written (defaults not applied). */
export type ClusterInput = z.input<typeof clusterSchema>;
/** cluster.yaml after structural validation, defaults applied. */
export type ClusterDocument = z.output<typeof clusterSchema>;
export type NodeDocument = ClusterDocument['nodes'][number];
export type VmDocument = ClusterDocument['vms'][number];
export type NasDocument = ClusterDocument['nas'][number];
