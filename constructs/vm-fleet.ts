import { TerraformElement, TerraformProvider } from 'cdktf';
import { keysToSnakeCase } from 'cdktf/lib/util';
import { Construct } from 'constructs';
import { GATEWAY_VMID } from '../model/addressing';
import { VmModel } from '../model/cluster';
import { PrerenderedJson, TextSink, indentedJson } from './json-text';
import { canonical, canonicalCopy, canonicalMap, canonicalRecord, holdsTokens } from './plain-data';
import { PROXMOX_VM_QEMU_KEYS, ProxmoxVmQemu, ProxmoxVmQemuConfig, proxmoxVmQemuAttributes } from './proxmox-provider';
import { VmQemuNetwork } from '../.gen/providers/proxmox/vm-qemu';
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
    const provider = this.provider?.fqn;
    const path = this.node.path;
    const resources: [string, unknown][] = [];
    for (const vm of this.vms.values()) {
      const id = vmLogicalId(vm.vmid);
      const meta = { '//': { metadata: { path: `${path}/${id}`, uniqueId: id } }, provider };
      resources.push([id, canonicalRecord([proxmoxVmQemuAttributes(vmOwnConfig(vm)), this.shape(vm), meta], PROXMOX_VM_QEMU_KEYS)]);
    }
    return canonical({ resource: { [ProxmoxVmQemu.tfResourceType]: canonicalMap(resources) } });
  }

  /**
   * The same fragment as toTerraform, with the resource map as JSON text written directly (what
   * FastSynthStack writes): each shape's blocks are serialized once, each VM's own arguments per VM.
   */
  toPrerenderedTerraform(): any {
    if (this.vms.size === 0) return {};
    return { resource: { [ProxmoxVmQemu.tfResourceType]: new FleetResources(this) } };
  }

  /**
   * The text of the resource map nested at `indent`: what `indentedJson` gives for toTerraform's map
   * (a test holds the two equal for every argument cias sets).
   */
  writeResourcesJson(sink: TextSink, indent: string): void {
    const ids = [...this.vms.keys()].map((vmid) => [vmLogicalId(vmid), vmid] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (ids.length === 0) {
      sink.write('{}');
      return;
    }
    const entry = `${indent}  `;
    const records = new VmRecordText(`${entry}  `, this.node.path, this.provider?.fqn, (vm) => this.shape(vm));
    // Each VM's record goes to the sink on its own: no string of the whole map is ever built.
    let before = `{\n${entry}`;
    for (const [id, vmid] of ids) {
      sink.write(`${before}${JSON.stringify(id)}: ${records.text(this.vms.get(vmid) as VmModel, id)}\n${entry}}`);
      before = `,\n${entry}`;
    }
    sink.write(`\n${indent}}`);
  }

  /** The converted blocks a VM shares with every VM of its shape (and CPU model), made once per shape. */
  private shape(vm: VmModel): Record<string, unknown> {
    const shapeKey = vmShapeKey(vm, this.cpuType);
    let shape = this.shapes.get(shapeKey);
    if (shape === undefined) {
      const config = vmShapeConfig(vm, this.cpuType);
      shape = { ...proxmoxVmQemuAttributes(config), lifecycle: keysToSnakeCase(config.lifecycle) };
      for (const name of Object.keys(shape)) shape[name] = canonical(shape[name]);
      this.shapes.set(shapeKey, shape);
    }
    return shape;
  }

  private readonly shapes = new Map<string, Record<string, unknown>>();
}

/**
 * Writes VM records (the value of `"vm-<vmid>": …`) as text, fields at the indentation `field`.
 * What VMs share is serialized once: a shape's blocks, and the NIC block, which differs between VMs
 * only in its MAC (made once per NIC layout with a marker where the MAC goes).
 */
class VmRecordText {
  private readonly meta: string;
  private readonly provider?: string;
  /** `"key": ` at the field indentation, after the record's `{` or after a previous field. */
  private readonly firstKeys: ReadonlyMap<string, string>;
  private readonly nextKeys: ReadonlyMap<string, string>;
  private readonly shapeTexts = new Map<Record<string, unknown>, ReadonlyMap<string, string>>();
  private readonly nicTemplates = new Map<string, readonly [string, string] | null>();

  constructor(
    private readonly field: string,
    private readonly path: string,
    provider: string | undefined,
    private readonly shapeOf: (vm: VmModel) => Record<string, unknown>,
  ) {
    this.meta = `${field}  `;
    this.firstKeys = new Map(PROXMOX_VM_QEMU_KEYS.map((key) => [key, `\n${field}${JSON.stringify(key)}: `]));
    this.nextKeys = new Map(PROXMOX_VM_QEMU_KEYS.map((key) => [key, `,\n${field}${JSON.stringify(key)}: `]));
    this.provider = provider === undefined ? undefined : JSON.stringify(provider);
  }

  text(vm: VmModel, id: string): string {
    const { field, meta } = this;
    const shared = this.sharedTexts(this.shapeOf(vm));
    const { network, ...config } = vmOwnConfig(vm);
    const own = proxmoxVmQemuAttributes(config);
    for (const key of Object.keys(own)) {
      if (own[key] !== undefined && !KNOWN_KEYS.has(key)) throw new Error(`VmFleet: unexpected argument ${key}`);
    }
    let record = '{';
    let first = true;
    for (const key of PROXMOX_VM_QEMU_KEYS) {
      let value: string | undefined;
      if (key === '//') {
        value = `{\n${meta}"metadata": {\n${meta}  "path": ${scalarJson(`${this.path}/${id}`)},\n${meta}  "uniqueId": ${scalarJson(id)}\n${meta}}\n${field}}`;
      } else if (key === 'provider') {
        value = this.provider;
      } else if (key === 'network' && network !== undefined) {
        value = this.networkText(network);
      } else {
        const mine = own[key];
        value = mine === undefined ? shared.get(key) : typeof mine === 'object' && mine !== null ? indentedJson(canonicalCopy(mine), field) : scalarJson(mine);
      }
      if (value === undefined) continue;
      record += (first ? this.firstKeys : this.nextKeys).get(key) + value;
      first = false;
    }
    return record;
  }

  private sharedTexts(shape: Record<string, unknown>): ReadonlyMap<string, string> {
    let texts = this.shapeTexts.get(shape);
    if (texts === undefined) {
      texts = new Map(Object.entries(shape).filter(([, value]) => value !== undefined).map(([name, value]) => [name, indentedJson(value, this.field)]));
      this.shapeTexts.set(shape, texts);
    }
    return texts;
  }

  private networkText(network: NonNullable<ProxmoxVmQemuConfig['network']>): string {
    const convert = (nics: typeof network) => indentedJson(canonicalCopy(proxmoxVmQemuAttributes({ network: nics }).network), this.field);
    const nics = network as readonly VmQemuNetwork[];
    const mac = nics.length === 1 ? nics[0].macaddr : undefined;
    if (typeof mac !== 'string') return convert(network);
    const layout = JSON.stringify({ ...nics[0], macaddr: null });
    let template = this.nicTemplates.get(layout);
    if (template === undefined) {
      const parts = convert([{ ...nics[0], macaddr: MAC_MARKER }]).split(JSON.stringify(MAC_MARKER));
      template = parts.length === 2 ? [parts[0], parts[1]] : null;
      this.nicTemplates.set(layout, template);
    }
    return template === null ? convert(network) : `${template[0]}${scalarJson(mac)}${template[1]}`;
  }
}

/** Stands where a NIC template's MAC goes; no MAC looks like it. */
const MAC_MARKER = '\u0000cias-mac\u0000';

/** The keys a record may have; anything else from the converters is refused. */
const KNOWN_KEYS: ReadonlySet<string> = new Set(PROXMOX_VM_QEMU_KEYS);

/** JSON of a scalar argument; a token in it is refused, as canonical refuses it. */
function scalarJson(value: unknown): string {
  if (holdsTokens(value)) throw new Error(`VmFleet: ${String(value)} holds a token`);
  return JSON.stringify(value);
}

/** A fleet's resource map, written as text by FastSynthStack. */
class FleetResources extends PrerenderedJson {
  constructor(private readonly fleet: VmFleet) {
    super();
  }

  writeJson(sink: TextSink, indent: string): void {
    this.fleet.writeResourcesJson(sink, indent);
  }

  toValue(): unknown {
    return this.fleet.toTerraform().resource[ProxmoxVmQemu.tfResourceType];
  }
}
