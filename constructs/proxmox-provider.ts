/**
 * The Telmate Proxmox provider (telmate/proxmox 3.0.2-rc09) as cias uses it: the provider block from
 * `ClusterModel.proxmox`, and a lean binding for `proxmox_vm_qemu`.
 */
import { TerraformResource, TerraformResourceConfig, listMapper, listMapperHcl } from 'cdktf';
import { Construct } from 'constructs';
import { ProxmoxProvider } from '../.gen/providers/proxmox/provider';
import {
  VmQemuConfig,
  vmQemuCpuToHclTerraform,
  vmQemuCpuToTerraform,
  vmQemuDisksToHclTerraform,
  vmQemuDisksToTerraform,
  vmQemuNetworkToHclTerraform,
  vmQemuNetworkToTerraform,
} from '../.gen/providers/proxmox/vm-qemu';
import { ClusterModel } from '../model/cluster';
import { keysToSnakeCase } from 'cdktf/lib/util';
import { holdsTokens } from './plain-data';

/** The provider version the bindings and `providers/proxmox@<version>.json` were generated from. */
export const PROXMOX_PROVIDER_VERSION = '3.0.2-rc09';

/**
 * One `provider "proxmox"` block per stack. It carries no credentials: the provider reads the API
 * token from PM_API_TOKEN_ID / PM_API_TOKEN_SECRET at plan/apply time, so neither cluster.yaml nor
 * cdktf.out ever holds one.
 */
export function addProxmoxProvider(scope: Construct, settings: ClusterModel['proxmox']): ProxmoxProvider {
  return new ProxmoxProvider(scope, 'proxmox', {
    pmApiUrl: settings.apiUrl,
    pmTlsInsecure: settings.tlsInsecure,
    pmParallel: settings.parallel,
    pmMinimumPermissionCheck: settings.minimumPermissionCheck,
  });
}

/** The `proxmox_vm_qemu` arguments cias sets; everything else keeps the provider's default. */
export type ProxmoxVmQemuConfig = Pick<
  VmQemuConfig,
  | 'description'
  | 'clone'
  | 'fullClone'
  | 'cpu'
  | 'memory'
  | 'scsihw'
  | 'disks'
  | 'network'
  | 'ipconfig0'
  | 'osType'
  | 'startAtNodeBoot'
  | 'tags'
  | 'boot'
  | 'lifecycle'
  | 'dependsOn'
  | 'provider'
> & {
  readonly vmid: number;
  readonly name: string;
  readonly targetNode: string;
};

type Kind = 'string' | 'number' | 'boolean' | 'cpu' | 'disks' | 'network';

/** Terraform argument name, config field, value kind. One table feeds both JSON and HCL output. */
const ARGUMENTS: readonly (readonly [string, keyof ProxmoxVmQemuConfig, Kind])[] = [
  ['vmid', 'vmid', 'number'],
  ['name', 'name', 'string'],
  ['description', 'description', 'string'],
  ['target_node', 'targetNode', 'string'],
  ['clone', 'clone', 'string'],
  ['full_clone', 'fullClone', 'boolean'],
  ['memory', 'memory', 'number'],
  ['scsihw', 'scsihw', 'string'],
  ['ipconfig0', 'ipconfig0', 'string'],
  ['os_type', 'osType', 'string'],
  ['start_at_node_boot', 'startAtNodeBoot', 'boolean'],
  ['tags', 'tags', 'string'],
  ['boot', 'boot', 'string'],
  ['cpu', 'cpu', 'cpu'],
  ['disks', 'disks', 'disks'],
  ['network', 'network', 'network'],
];

/** Every top-level key a `proxmox_vm_qemu` of cias can have, sorted (arguments and meta-arguments). */
export const PROXMOX_VM_QEMU_KEYS: readonly string[] = [...ARGUMENTS.map(([name]) => name), 'depends_on', 'lifecycle', 'provider', '//'].sort();

const HCL_BLOCK: Record<'cpu' | 'disks' | 'network', { convert: (value: unknown) => unknown; storageClassType: string }> = {
  cpu: { convert: vmQemuCpuToHclTerraform as (value: unknown) => unknown, storageClassType: 'VmQemuCpuList' },
  disks: { convert: vmQemuDisksToHclTerraform as (value: unknown) => unknown, storageClassType: 'VmQemuDisksList' },
  network: { convert: listMapperHcl(vmQemuNetworkToHclTerraform, true), storageClassType: 'VmQemuNetworkList' },
};

/**
 * The `proxmox_vm_qemu` arguments of a config in Terraform spelling, through the generated converters
 * (blocks as the provider schema names them). Undefined values are left in; synthesis drops them.
 */
export function proxmoxVmQemuAttributes(config: Partial<ProxmoxVmQemuConfig>): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [name, field, kind] of ARGUMENTS) {
    const value = config[field];
    if (value === undefined) continue;
    switch (kind) {
      case 'cpu':
        attributes[name] = vmQemuCpuToTerraform(config.cpu);
        break;
      case 'disks':
        // The converter spells out all 57 disk slots as undefined; synthesis drops them.
        attributes[name] = vmQemuDisksToTerraform(config.disks);
        break;
      case 'network':
        attributes[name] = listMapper(vmQemuNetworkToTerraform, true)(config.network);
        break;
      default:
        attributes[name] = value;
    }
  }
  return attributes;
}

/**
 * `proxmox_vm_qemu` with the generated config types and converters, without the generated class.
 *
 * The generated `VmQemu` builds its whole output-reference tree eagerly (362 objects, each capturing
 * a stack trace): about 170 ms and 1.8 MB per VM under ts-node, hours and hundreds of GB for a full
 * cluster of 124,245 VMs. This class keeps only the config and converts it at synth time (under 1 ms
 * per VM). It offers no attribute references; cias never reads a VM's outputs.
 */
export class ProxmoxVmQemu extends TerraformResource {
  static readonly tfResourceType = 'proxmox_vm_qemu';

  readonly config: ProxmoxVmQemuConfig;

  constructor(scope: Construct, id: string, config: ProxmoxVmQemuConfig) {
    const meta: TerraformResourceConfig = {
      terraformResourceType: ProxmoxVmQemu.tfResourceType,
      terraformGeneratorMetadata: { providerName: 'proxmox', providerVersionConstraint: PROXMOX_PROVIDER_VERSION },
      provider: config.provider,
      dependsOn: config.dependsOn,
      lifecycle: config.lifecycle,
    };
    super(scope, id, meta);
    this.config = config;
    this.isPlain = !holdsTokens(config);
  }

  /**
   * True when the configuration holds no token (cias builds VMs from plain model data): such a
   * resource cannot register cross-stack references, so FastSynthStack skips its preparing pass.
   */
  readonly isPlain: boolean;

  protected synthesizeAttributes(): Record<string, unknown> {
    return proxmoxVmQemuAttributes(this.config);
  }

  /**
   * Same fragment as TerraformResource.toTerraform, without its generic passes (dynamic-block
   * processing and snake-casing of the whole attribute tree): the attributes are already in Terraform
   * spelling, and a plain VM holds no dynamic block. Resources with tokens take cdktf's path.
   */
  toTerraform(): any {
    if (!this.isPlain || this.hasResourceMove() || Object.keys(this.rawOverridesView()).length > 0) return super.toTerraform();
    const attributes: Record<string, unknown> = this.synthesizeAttributes();
    const meta = keysToSnakeCase(this.terraformMetaArguments) as Record<string, unknown>;
    for (const [key, value] of Object.entries(meta)) if (value !== undefined) attributes[key] = value;
    attributes['//'] = this.constructNodeMetadata;
    return { resource: { [this.terraformResourceType]: { [this.friendlyUniqueId]: attributes } } };
  }

  private rawOverridesView(): Record<string, unknown> {
    return (this as unknown as { rawOverrides: Record<string, unknown> }).rawOverrides;
  }

  protected synthesizeHclAttributes(): Record<string, unknown> {
    const attributes: Record<string, unknown> = {};
    for (const [name, field, kind] of ARGUMENTS) {
      const value = this.config[field];
      if (value === undefined) continue;
      if (kind === 'cpu' || kind === 'disks' || kind === 'network') {
        const block = HCL_BLOCK[kind];
        attributes[name] = { value: block.convert(value), isBlock: true, type: 'list', storageClassType: block.storageClassType };
      } else {
        attributes[name] = { value, isBlock: false, type: 'simple', storageClassType: kind };
      }
    }
    return attributes;
  }
}
