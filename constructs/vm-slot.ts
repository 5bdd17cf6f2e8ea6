import { TerraformProvider } from 'cdktf';
import { VmQemuDisks } from '../.gen/providers/proxmox/vm-qemu';
import { GATEWAY_VMID, LAN } from '../model/addressing';
import { VmDisk, VmModel } from '../model/cluster';
import { escapeTerraformTemplate } from '../render/install-bundle';
import { ProxmoxVmQemuConfig } from './proxmox-provider';

/** Every guest NIC sits on this bridge; it must exist on every node, since guests move between nodes. */
export const GUEST_BRIDGE = 'vmbr0';

/**
 * `x86-64-v2` is the CPU model every node of a mixed cluster of spare servers can offer (any x86-64
 * CPU since about 2009), so guests live-migrate and restore on any node. `host` would tie a guest to
 * one CPU generation.
 */
export const DEFAULT_CPU_TYPE = 'x86-64-v2';

/**
 * Directory storages (SPEC §4: `a_mfs` is the directory /mnt/mfs on MooseFS). Disks there are qcow2,
 * which is thin and supports snapshots on a plain directory; any other storage gets raw, the one
 * format every Proxmox storage type accepts.
 */
export const DIRECTORY_STORAGES: ReadonlySet<string> = new Set(['a_mfs']);

/** Tag on every guest cias manages, so scripts and people can tell them from hand-made ones. */
export const MANAGED_TAG = 'cias';

/**
 * Arguments Terraform must not enforce after creation, each because something outside Terraform
 * changes it on purpose:
 * - `target_node`: failover (SPEC §7 scenario 3), a node leaving (5) and dead-node removal (6) migrate
 *   or restore guests onto other nodes; enforcing it would migrate them back, or fail while the old
 *   node is gone.
 * - `clone`, `full_clone`: only read when the guest is created; pointing cluster.yaml at a newer
 *   template must not re-create running guests from it.
 */
export const PLACEMENT_IGNORED = ['target_node', 'clone', 'full_clone'] as const;

/**
 * Tenant guests also leave `power_state` alone: a tenant who shuts a VM down keeps it down, and the
 * failover scripts start guests themselves. (The gateway does not ignore it: it must run.)
 */
export const TENANT_IGNORED = [...PLACEMENT_IGNORED, 'power_state'] as const;

/** What the provider needs to lay out a guest's disks in the v3 `disks` block. */
export interface DiskLayout {
  readonly disks: VmQemuDisks;
  /** Slot of the first disk, the one the guest boots from (e.g. `scsi0`). */
  readonly bootDisk: string;
}

type Controller = 'ide' | 'sata' | 'scsi' | 'virtio';

const SLOT = /^(ide|sata|scsi|virtio)(\d+)$/;
const SLOT_COUNT: Record<Controller, number> = { ide: 4, sata: 6, scsi: 31, virtio: 16 };
/** ide2 is where Proxmox puts a cloud-init drive by default; the others only when ide2 holds a disk. */
const CLOUD_INIT_SLOTS = ['ide2', 'ide3', 'ide1', 'ide0'] as const;

function parseSlot(slot: string): { controller: Controller; slot: string } {
  const match = SLOT.exec(slot);
  if (!match || Number(match[2]) >= SLOT_COUNT[match[1] as Controller]) {
    throw new Error(`not a disk slot: ${slot} (scsi0..30, virtio0..15, sata0..5, ide0..3)`);
  }
  return { controller: match[1] as Controller, slot };
}

/**
 * The v3 `disks` block: `disks.<controller>.<slot>.disk` per data disk, plus the cloud-init drive
 * (`disks.ide.<slot>.cloudinit`) on the first disk's storage when `cloudInit` is set. The v3 `disks`
 * block describes a guest's complete set of drives, so the cloud-init drive must be listed, or a
 * cloned template's drive is dropped and `ipconfig0` never reaches the guest.
 * Every disk is `backup = true` explicitly: the weekly vzdump jobs are what failover restores from.
 */
export function diskLayout(disks: readonly VmDisk[], cloudInit: boolean): DiskLayout {
  if (disks.length === 0) throw new Error('a guest needs at least one disk');
  const layout: Partial<Record<Controller, Record<string, unknown>>> = {};
  for (const disk of disks) {
    const { controller, slot } = parseSlot(disk.slot);
    const slots = (layout[controller] ??= {});
    if (slots[slot] !== undefined) throw new Error(`disk slot ${slot} is used twice`);
    slots[slot] = {
      disk: {
        size: `${disk.sizeGb}G`,
        storage: disk.storage,
        format: DIRECTORY_STORAGES.has(disk.storage) ? 'qcow2' : 'raw',
        backup: true,
      },
    };
  }
  if (cloudInit) {
    const ide = (layout.ide ??= {});
    const slot = CLOUD_INIT_SLOTS.find((candidate) => ide[candidate] === undefined);
    if (!slot) throw new Error('no IDE slot left for the cloud-init drive (ide0..3 all hold disks)');
    ide[slot] = { cloudinit: { storage: disks[0].storage } };
  }
  return { disks: layout as VmQemuDisks, bootDisk: disks[0].slot };
}

/**
 * Tags in one canonical form (the managed tag added, lower-case, sorted, `;`-separated, as Proxmox
 * stores them), so their order in cluster.yaml never shows up as a change.
 */
export function proxmoxTags(tags: readonly string[]): string {
  return [...new Set([MANAGED_TAG, ...tags].map((tag) => tag.toLowerCase()))].sort().join(';');
}

export interface VmSlotProps {
  readonly vm: VmModel;
  /** Provider instance, when the stack has more than one. @default the stack's default `proxmox` */
  readonly provider?: TerraformProvider;
  /** CPU model. @default DEFAULT_CPU_TYPE ('x86-64-v2') */
  readonly cpuType?: string;
}

/**
 * One tenant VM (SPEC §3): its VMID fixes its IP (10.E.a.b), its MAC (02:C1:A5 + VMID, so the
 * gateway's DHCP reservation and port forwards exist before the VM does) and its ports.
 *
 * Perpetual diffs the Telmate provider is known for, and what avoids each:
 * - a `network` block without `macaddr` lets Proxmox pick one, which then shows as a change on every
 *   plan (Telmate #47, #112); cias always sets the MAC, and the NIC has the fixed `id = 0` the v3
 *   schema requires (#1139).
 * - `boot` is computed when unset and Proxmox derives it from the template, so it drifts (#686); it is
 *   set explicitly to the boot disk only (a tenant VM never PXE-boots).
 * - `tags` are normalized by Proxmox; see proxmoxTags.
 * `lifecycle.ignore_changes` lists only what cias itself (or a tenant) changes on purpose: see
 * TENANT_IGNORED.
 */
export function vmSlotConfig(props: VmSlotProps): ProxmoxVmQemuConfig {
  return { ...vmShapeConfig(props.vm, props.cpuType), ...vmOwnConfig(props.vm), provider: props.provider };
}

/** What a VM's shape fixes: CPU, disks and whether it boots with cloud-init. */
export type VmShape = Pick<VmModel, 'cores' | 'sockets' | 'disks' | 'cloudInit'>;

/** Equal for VMs of equal shape (and CPU model), different otherwise. */
export function vmShapeKey(shape: VmShape, cpuType = DEFAULT_CPU_TYPE): string {
  const disks = shape.disks.map((disk) => `${disk.slot}:${disk.sizeGb}:${disk.storage}`).join(',');
  return `${shape.cores}/${shape.sockets}/${cpuType}/${shape.cloudInit}/${disks}`;
}

/** The arguments a VM's shape fixes; VMs of one shape share them (see VmFleet). */
export function vmShapeConfig(shape: VmShape, cpuType = DEFAULT_CPU_TYPE): ProxmoxVmQemuShapeConfig {
  const { disks, bootDisk } = diskLayout(shape.disks, shape.cloudInit);
  return {
    cpu: { cores: shape.cores, sockets: shape.sockets, type: cpuType },
    scsihw: 'virtio-scsi-single',
    disks,
    ...(shape.cloudInit && { osType: 'cloud-init' }),
    boot: `order=${bootDisk}`,
    lifecycle: { ignoreChanges: [...TENANT_IGNORED] },
  };
}

type ProxmoxVmQemuShapeConfig = Pick<ProxmoxVmQemuConfig, 'cpu' | 'scsihw' | 'disks' | 'osType' | 'boot' | 'lifecycle'>;

/** The arguments that are a VM's own: identity, addresses, placement, tags. */
export function vmOwnConfig(vm: VmModel): Omit<ProxmoxVmQemuConfig, keyof ProxmoxVmQemuShapeConfig> {
  if (vm.vmid === GATEWAY_VMID) throw new Error(`VMID ${GATEWAY_VMID} is the gateway, not a tenant VM`);
  return {
    vmid: vm.vmid,
    name: vm.name,
    // Free text from cluster.yaml: `${` in it must not become a Terraform interpolation.
    description: vm.description === undefined ? undefined : escapeTerraformTemplate(vm.description),
    targetNode: vm.node,
    clone: vm.template,
    fullClone: vm.fullClone,
    memory: vm.memoryMb,
    network: [{ id: 0, model: 'virtio', bridge: GUEST_BRIDGE, macaddr: vm.mac }],
    ...(vm.cloudInit && { ipconfig0: cloudInitIpConfig(vm.ip) }),
    startAtNodeBoot: vm.onboot,
    tags: proxmoxTags(vm.tags),
  };
}

export function vmLogicalId(vmid: number): string {
  return `vm-${vmid}`;
}

/** SPEC §2: a tenant VM has its address on 10.0.0.0/8 and routes through the gateway. */
export function cloudInitIpConfig(ip: string): string {
  return `ip=${ip}/${LAN.prefix},gw=${LAN.gatewayIp}`;
}
