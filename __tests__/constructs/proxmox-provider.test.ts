import { Testing, TerraformStack } from 'cdktf';
import { VmQemu } from '../../.gen/providers/proxmox/vm-qemu';
import { ProxmoxVmQemu, ProxmoxVmQemuConfig, addProxmoxProvider } from '../../constructs/proxmox-provider';

const CONFIG: ProxmoxVmQemuConfig = {
  vmid: 10501,
  name: 'mail',
  description: 'tenant mail server',
  targetNode: 'pve-master-rack-b-1-2',
  clone: 'debian-12-cloudinit',
  fullClone: true,
  cpu: { cores: 2, sockets: 1, type: 'x86-64-v2' },
  memory: 2048,
  scsihw: 'virtio-scsi-single',
  disks: {
    scsi: { scsi0: { disk: { size: '20G', storage: 'a_mfs', format: 'qcow2', backup: true } } },
    virtio: { virtio3: { disk: { size: '5G', storage: 'local-lvm', format: 'raw', backup: true } } },
    ide: { ide2: { cloudinit: { storage: 'a_mfs' } } },
  },
  network: [{ id: 0, model: 'virtio', bridge: 'vmbr0', macaddr: '02:C1:A5:00:29:05' }],
  ipconfig0: 'ip=10.10.5.1/8,gw=10.0.0.254',
  osType: 'cloud-init',
  startAtNodeBoot: true,
  tags: 'cias;mail',
  boot: 'order=scsi0',
  lifecycle: { ignoreChanges: ['target_node'], preventDestroy: false },
};

/** A resource body without the construct-path metadata, which differs between the two classes. */
function body(json: Record<string, unknown>): unknown {
  const { ['//']: _metadata, ...rest } = json;
  return rest;
}

describe('ProxmoxVmQemu (lean binding)', () => {
  it('synthesizes exactly what the generated VmQemu synthesizes for the same config (JSON and HCL)', () => {
    const stack = new TerraformStack(Testing.app(), 'compare');
    const lean = new ProxmoxVmQemu(stack, 'lean', CONFIG);
    const generated = new VmQemu(stack, 'generated', CONFIG);
    const leanJson = lean.toTerraform().resource.proxmox_vm_qemu.lean;
    const generatedJson = generated.toTerraform().resource.proxmox_vm_qemu.generated;
    expect(body(leanJson)).toEqual(body(generatedJson));
    expect(leanJson.disks.virtio.virtio3.disk.storage).toBe('local-lvm');
    expect(body(lean.toHclTerraform().resource.proxmox_vm_qemu.lean)).toEqual(
      body(generated.toHclTerraform().resource.proxmox_vm_qemu.generated),
    );
  });

  it('omits arguments that are not set, and keeps lifecycle and depends_on', () => {
    const stack = new TerraformStack(Testing.app(), 'minimal');
    const first = new ProxmoxVmQemu(stack, 'first', { vmid: 101, name: 'a', targetNode: 'n' });
    const second = new ProxmoxVmQemu(stack, 'second', {
      vmid: 102,
      name: 'b',
      targetNode: 'n',
      dependsOn: [first],
      lifecycle: { preventDestroy: true },
    });
    const json = JSON.parse(Testing.synth(stack)).resource.proxmox_vm_qemu;
    expect(body(json.first)).toEqual({ vmid: 101, name: 'a', target_node: 'n' });
    expect(body(json.second)).toEqual({
      vmid: 102,
      name: 'b',
      target_node: 'n',
      depends_on: ['proxmox_vm_qemu.first'],
      lifecycle: { prevent_destroy: true },
    });
    expect(second.terraformResourceType).toBe('proxmox_vm_qemu');
  });

  it('builds and synthesizes a full shard of 495 VMs (timings: npm run bench)', () => {
    const stack = new TerraformStack(Testing.app(), 'scale');
    for (let i = 0; i < 495; i++) new ProxmoxVmQemu(stack, `vm-${i}`, { ...CONFIG, vmid: 1101 + i });
    const json = JSON.parse(Testing.synth(stack));
    expect(Object.keys(json.resource.proxmox_vm_qemu)).toHaveLength(495);
  });
});

describe('addProxmoxProvider', () => {
  it('configures the API from the model and never a credential', () => {
    const stack = new TerraformStack(Testing.app(), 'provider');
    addProxmoxProvider(stack, { apiUrl: 'https://192.168.56.101:8006/api2/json', tlsInsecure: true, parallel: 4, minimumPermissionCheck: false });
    const json = JSON.parse(Testing.synth(stack));
    expect(json.provider.proxmox).toEqual([
      {
        pm_api_url: 'https://192.168.56.101:8006/api2/json',
        pm_tls_insecure: true,
        pm_parallel: 4,
        pm_minimum_permission_check: false,
      },
    ]);
    expect(json.terraform.required_providers.proxmox).toEqual({ source: 'telmate/proxmox', version: '3.0.2-rc09' });
  });
});
