import { TerraformElement, TerraformProvider } from 'cdktf';
import { keysToSnakeCase } from 'cdktf/lib/util';
import { Construct } from 'constructs';
import { GATEWAY_VMID } from '../model/addressing';
import { VmModel } from '../model/cluster';
import { canonical, canonicalMap, canonicalRecord } from './plain-data';
import { PROXMOX_VM_QEMU_KEYS, ProxmoxVmQemu, proxmoxVmQemuAttributes } from './proxmox-provider';
import { diskLayout, vmLogicalId, vmOwnConfig, vmShapeConfig, vmShapeKey } from './vm-slot';

export interface VmFleetProps {
  /** The tenant VMs, each once. */
  readonly vms: readonly VmModel[];
  /** Provider instance, when the stack has more than one. @default the stack's default `proxmox` */
  readonly provider?: TerraformProvider;
  /** CPU model of every VM. @default DEFAULT_CPU_TYPE ('x86-64-v2') */
  readonly cpuType?: string;
}

/**
 * The `proxmox_vm_qemu` resources of many tenant VMs as one construct: one resource per VM under the
 * logical ID `vm-<vmid>`, each exactly what a ProxmoxVmQemu of vmSlotConfig synthesizes (a test holds
 * the two equal). A construct per VM costs its tree node, metadata and a pass through the generic
 * synthesis for each of a full cluster's 124,245 VMs; here the VMs stay model data until synthesis,
 * the few distinct CPU and disk layouts are converted once and shared, and the fragment comes out in
 * final (canonical) form, which FastSynthStack writes without copying or sorting it again.
 */
export class VmFleet extends TerraformElement {
  readonly vms: ReadonlyMap<number, VmModel>;
  private readonly provider?: TerraformProvider;
  private readonly cpuType?: string;
  /** Nothing here is a token: FastSynthStack skips the preparing pass. */
  readonly isPlain = true;

  constructor(scope: Construct, id: string, props: VmFleetProps) {
    super(scope, id, ProxmoxVmQemu.tfResourceType);
    const vms = new Map<number, VmModel>();
    const problems: string[] = [];
    const layouts = new Set<string>();
    for (const vm of props.vms) {
      if (vms.has(vm.vmid)) problems.push(`VMID ${vm.vmid} listed twice`);
      vms.set(vm.vmid, vm);
      // Refuse now what synthesis would refuse later (gateway VMID, impossible disk layouts); each
      // distinct layout is checked once.
      const layout = vmShapeKey(vm);
      if (vm.vmid === GATEWAY_VMID) problems.push(`VMID ${GATEWAY_VMID} is the gateway, not a tenant VM`);
      if (layouts.has(layout)) continue;
      try {
        diskLayout(vm.disks, vm.cloudInit);
        layouts.add(layout);
      } catch (error) {
        problems.push(`VMID ${vm.vmid}: ${(error as Error).message}`);
      }
    }
    if (problems.length > 0) throw new Error(`${this.node.path}: ${problems.join('; ')}`);
    this.vms = vms;
    this.provider = props.provider;
    this.cpuType = props.cpuType;
  }

  /** Terraform address of a VM's resource. */
  resourceAddress(vmid: number): string {
    return `${ProxmoxVmQemu.tfResourceType}.${vmLogicalId(vmid)}`;
  }

  toTerraform(): any {
    // An empty shard (its VMs all removed) has no resource block at all, as an empty stack would.
    if (this.vms.size === 0) return {};
    const shapes = new Map<string, Record<string, unknown>>();
    const provider = this.provider?.fqn;
    const path = this.node.path;
    const resources: [string, unknown][] = [];
    for (const vm of this.vms.values()) {
      const shapeKey = vmShapeKey(vm, this.cpuType);
      let shape = shapes.get(shapeKey);
      if (shape === undefined) {
        const config = vmShapeConfig(vm, this.cpuType);
        shape = { ...proxmoxVmQemuAttributes(config), lifecycle: keysToSnakeCase(config.lifecycle) };
        for (const name of Object.keys(shape)) shape[name] = canonical(shape[name]);
        shapes.set(shapeKey, shape);
      }
      const id = vmLogicalId(vm.vmid);
      const meta = { '//': { metadata: { path: `${path}/${id}`, uniqueId: id } }, provider };
      resources.push([id, canonicalRecord([proxmoxVmQemuAttributes(vmOwnConfig(vm)), shape, meta], PROXMOX_VM_QEMU_KEYS)]);
    }
    return canonical({ resource: { [ProxmoxVmQemu.tfResourceType]: canonicalMap(resources) } });
  }
}
