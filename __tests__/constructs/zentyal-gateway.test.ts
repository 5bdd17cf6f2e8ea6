import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Testing, TerraformStack } from 'cdktf';
import { GATEWAY_ADMIN_PASSWORD_FILE, ZentyalGateway, gatewayBundleParams } from '../../constructs/zentyal-gateway';
import { GATEWAY_PATHS, renderGatewayBundle } from '../../render/gateway';
import { edit, exampleText, modelOf } from '../helpers/synth';
import { pushedBundle, resource, resourceStartingWith, synthGuests } from './guest-synth';

describe('ZentyalGateway in the example cluster', () => {
  const model = modelOf(exampleText());
  const { stacks } = synthGuests(model);
  const gatewayStack = stacks.get('gateway')!;
  const vm = resource(gatewayStack, 'proxmox_vm_qemu', 'vm-100');
  const [, push] = resourceStartingWith(gatewayStack, 'null_resource', 'cias-router_rules_push_');
  const bundle = pushedBundle(push);

  it('is a KVM guest with VMID 100: 2 GB RAM, a 4 GB disk, one virtio NIC with the VMID-derived MAC, on the bootstrap node', () => {
    expect(vm).toMatchObject({
      vmid: 100,
      name: 'cias-router',
      target_node: 'pve-master-rack-a-1-1',
      clone: 'zentyal-template',
      full_clone: true,
      memory: 2048,
      start_at_node_boot: true,
      boot: 'order=scsi0',
      tags: 'cias;gateway',
    });
    expect(vm.disks).toEqual({ scsi: { scsi0: { disk: { size: '4G', storage: 'a_mfs', format: 'qcow2', backup: true } } } });
    expect(vm.network).toEqual([{ id: 0, model: 'virtio', bridge: 'vmbr0', macaddr: '02:C1:A5:00:00:64' }]);
    expect(vm).not.toHaveProperty('ipconfig0');
  });

  it('cannot be destroyed by Terraform, may be moved by failover, and is kept running', () => {
    expect(vm.lifecycle).toEqual({ prevent_destroy: true, ignore_changes: ['target_node', 'clone', 'full_clone'] });
  });

  it('pushes its rules over SSH to 10.0.0.254 through the master VIP, after the guest exists', () => {
    expect(push.connection).toMatchObject({ host: '10.0.0.254', port: 22, user: 'root', bastion_host: '10.254.0.254', bastion_port: 22, bastion_user: 'root' });
    expect(push.depends_on).toEqual(['proxmox_vm_qemu.vm-100']);
    // A new gateway guest (same VMID, new resource) gets its rules again.
    expect(push.triggers.gateway_vm_id).toBe('${proxmox_vm_qemu.vm-100.id}');
  });

  it('uploads exactly the rendered gateway bundle, which refreshes Zentyal on change and creates the admin', () => {
    for (const file of renderGatewayBundle(gatewayBundleParams(model))) {
      expect(bundle).toContain(`install_file ${file.path} ${file.mode} <<'`);
      expect(bundle).toContain(file.content);
    }
    // Every VM's DHCP reservation (MAC → IP) and its port block on its VM-management IP (SPEC §3).
    expect(bundle).toContain(`host vm101 { hardware ethernet 02:c1:a5:00:00:65; fixed-address 10.0.1.1;`);
    expect(bundle).toContain(`host vm102 { hardware ethernet 02:c1:a5:00:00:66; fixed-address 10.0.1.2;`);
    expect(bundle).toContain(`host vm10501 { hardware ethernet 02:c1:a5:00:29:05; fixed-address 10.10.5.1;`);
    expect(bundle).toContain('-d 192.168.56.104/32 -p tcp -m tcp --dport 10101:10199 -j DNAT --to-destination 10.0.1.1:1-99/10101');
    expect(bundle).toContain('-d 192.168.56.104/32 -p udp -m udp --dport 10201:10299 -j DNAT --to-destination 10.0.1.2:1-99/10201');
    expect(bundle).toContain('-d 192.168.56.114/32 -p tcp -m tcp --dport 50187 -j DNAT --to-destination 10.10.5.1:587');
    expect(bundle).toMatch(/if \(\(changed \|\| force\)\); then\n {2}\/usr\/local\/sbin\/cias-gateway-refresh all\nfi/);
    expect(bundle).toContain(`${GATEWAY_PATHS.libDir}/create_user.sh 'cias-admin' --password-file ${GATEWAY_ADMIN_PASSWORD_FILE}`);
  });

  it('passes shellcheck as it will run on the gateway', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cias-gw-bundle-'));
    try {
      writeFileSync(join(dir, 'bundle.sh'), bundle);
      const result = spawnSync('shellcheck', ['-s', 'bash', join(dir, 'bundle.sh')], { encoding: 'utf8' });
      expect(result.stdout).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uploads the admin password from the sensitive variable, never inside the bundle, and re-runs when it changes', () => {
    const uploads = (push.provisioner as Record<string, any>[]).filter((p) => p.file).map((p) => p.file);
    expect(uploads).toContainEqual({ content: '${var.cias_gateway_admin_password}', destination: GATEWAY_ADMIN_PASSWORD_FILE });
    expect(bundle).not.toContain('cias_gateway_admin_password');
    expect(push.triggers.admin_password_sha256).toBe('${sha256(var.cias_gateway_admin_password)}');
    expect(gatewayStack.variable?.cias_gateway_admin_password).toMatchObject({ sensitive: true, type: 'string' });
    expect(gatewayStack.variable?.cias_gateway_admin_password).not.toHaveProperty('default');
  });

  it('escapes the interpolation markers of the pushed files for Terraform', () => {
    const raw = (push.provisioner as Record<string, any>[]).map((p) => p.file).find((f) => f?.destination?.startsWith('/tmp/cias-'));
    expect(raw.content).not.toMatch(/(^|[^$])\$\{/);
    expect(bundle).toContain('${');
  });
});

describe('gatewayBundleParams', () => {
  it('maps every VM with its default rule and overrides, the NAS, the names and the SSH source', () => {
    const params = gatewayBundleParams(modelOf(exampleText()));
    expect(params.vms.map((v) => [v.vmid, v.internalIp, v.externalIp, v.mac])).toEqual([
      [101, '10.0.1.1', '192.168.56.104', '02:C1:A5:00:00:65'],
      [102, '10.0.1.2', '192.168.56.104', '02:C1:A5:00:00:66'],
      [10501, '10.10.5.1', '192.168.56.114', '02:C1:A5:00:29:05'],
    ]);
    const mail = params.vms[2];
    expect(mail.defaultRuleProtocols).toEqual(['tcp', 'udp']);
    expect(mail.portForwards).toEqual([
      { externalPort: 50125, internalPort: 25, protocol: 'tcp' },
      { externalPort: 50187, internalPort: 587, protocol: 'tcp' },
    ]);
    expect(params.vms[0].dnsNames).toEqual(['www.example.com']);
    expect(params.nas).toEqual([{ hostname: 'nas.storage-rack.a.1-1.example.com', ip: '10.253.1.1', managementForwards: [], webPort: 80 }]);
    expect(params).toMatchObject({
      wanPrefix: 24,
      wanGateway: '192.168.56.1',
      proxmoxManagementIp: '192.168.56.102',
      nasManagementIp: '192.168.56.103',
      proxmoxVip: '10.254.0.254',
      sshAllowedSource: '10.254.0.254',
      proxmoxNodeIps: ['10.254.1.1', '10.254.1.2', '10.254.1.3'],
      dns: { zone: 'example.com', names: [{ name: 'www.example.com', ip: '192.168.56.104' }] },
    });
  });
});

describe('ZentyalGateway options', () => {
  const model = modelOf(edit(exampleText(), 'gateway:\n  template: zentyal-template', 'gateway:\n  node: 10.254.1.2\n  template: zentyal-template'));
  const build = (adminUser?: string) => {
    const stack = new TerraformStack(Testing.app(), 'gw');
    new ZentyalGateway(stack, 'gw', {
      model,
      resourceType: 'terraform_data',
      privateKeyRef: '${var.key}',
      adminPasswordRef: '${var.password}',
      adminUser,
    });
    return JSON.parse(Testing.synth(stack));
  };

  it('runs on the configured master-capable node and can use terraform_data', () => {
    const json = build('ops');
    expect(json.resource.proxmox_vm_qemu['vm-100'].target_node).toBe('pve-master-rack-b-1-2');
    const [push] = Object.values(json.resource.terraform_data) as Record<string, any>[];
    expect(push.triggers_replace.admin_password_sha256).toBe('${sha256(var.password)}');
    expect(pushedBundle(push)).toContain("create_user.sh 'ops' --password-file");
  });

  it('refuses an admin name the gateway script would refuse, and root', () => {
    expect(() => build('Admin User')).toThrow(/not a valid user name/);
    expect(() => build('root')).toThrow(/not a valid user name/);
  });
});
