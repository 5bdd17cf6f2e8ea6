/** The lab network plan, before anything is created: names, addresses, and what it refuses. */
import { knownHostsLines, nodeFiles, sshdConfig } from '../../lab/node-files';
import { DEFAULT_LAB_NODES, LabTopologyError, planTopology } from '../../lab/topology';

describe('planTopology', () => {
  test('default lab: three nodes on one segment, a /16 root leg, the uplink outside both networks', () => {
    const topology = planTopology({ nodes: DEFAULT_LAB_NODES });
    expect(topology.switchNamespace).toBe('cias-lab-switch');
    expect(topology.uplink).toEqual({
      namespace: 'cias-lab-uplink',
      interface: { name: 'eth0', cidr: '192.168.56.1/24' },
      probeIp: '198.51.100.1',
      switchPort: 'uplink',
    });
    expect(topology.hostLeg).toEqual({ name: 'cias-lab0', cidr: '10.254.255.1/16', network: '10.254.0.0/16', switchPort: 'host' });
    expect(topology.sharedSegment).toBe(true);
    expect(topology.vip).toBe('10.254.0.254');
    expect(topology.masterExternalIp).toBe('192.168.56.101');
    expect(topology.nodes.map((node) => [node.namespace, node.lan, node.wan, node.switchLanPort, node.switchWanPort, node.canBeMaster, node.disks])).toEqual([
      ['cias-lab-pve-lab-a-1-1', { name: 'vmbr0', cidr: '10.254.1.1/8' }, { name: 'vmbr0', cidr: '192.168.56.11/24' }, 'lan1', undefined, true, ['sdb']],
      ['cias-lab-pve-lab-b-1-2', { name: 'vmbr0', cidr: '10.254.1.2/8' }, { name: 'vmbr0', cidr: '192.168.56.12/24' }, 'lan2', undefined, true, ['sdb']],
      ['cias-lab-pve-lab-c-1-3', { name: 'vmbr0', cidr: '10.254.1.3/8' }, { name: 'vmbr0', cidr: '192.168.56.13/24' }, 'lan3', undefined, false, ['sdb']],
    ]);
    expect(topology.diskSizeMiB).toBe(12288);
  });

  test('a separate WAN interface gets its own port in the WAN bridge and no patch', () => {
    const topology = planTopology({
      nodes: DEFAULT_LAB_NODES.map((node) => ({ ...node, wanInterface: 'vmbr1' })),
      wan: { network: '192.168.57.0', gateway: '192.168.57.254', masterIp: '192.168.57.101' },
    });
    expect(topology.sharedSegment).toBe(false);
    expect(topology.nodes[1]).toMatchObject({ wan: { name: 'vmbr1', cidr: '192.168.57.12/24' }, switchWanPort: 'wan2' });
    expect(topology.uplink.interface.cidr).toBe('192.168.57.254/24');
  });

  test('refuses what would break the lab or the host, listing every problem', () => {
    const attempt = () =>
      planTopology({
        nodes: [
          { name: 'Bad_Name', ip: '10.1.2.3', canBeMaster: false },
          { name: 'switch', ip: '10.254.0.254', canBeMaster: false, lanInterface: 'a-much-too-long-name' },
          { name: 'pve-x', ip: '10.254.1.9', canBeMaster: false, wanInterface: 'vmbr1', wanIp: '192.168.56.101', disks: ['loop0', 'sdb', 'sdb'] },
        ],
        uplinkProbeIp: '192.168.56.200',
      });
    expect(attempt).toThrow(LabTopologyError);
    let problems: readonly string[] = [];
    try {
      attempt();
    } catch (error) {
      problems = (error as LabTopologyError).problems;
    }
    expect(problems).toEqual([
      'uplink probe 192.168.56.200 must lie outside both the WAN and the node network (it plays the Internet)',
      'no node can be master: keepalived would never elect one',
      'either every node carries the WAN on its LAN interface or none does: the lab has one WAN wiring',
      'node Bad_Name: name must be a lowercase DNS label',
      'node Bad_Name: 10.1.2.3 is outside 10.254.0.0/16, which the root namespace reaches',
      'node switch: name is reserved for the lab\'s own namespaces',
      'node switch: address 10.254.0.254 is already used by the VIP',
      'node switch: a-much-too-long-name is not a usable interface name',
      'node pve-x: loop0 is not a disk name like sdb',
      'node pve-x: a disk is listed twice',
      'node pve-x (WAN): address 192.168.56.101 is already used by the master external IP',
    ]);
  });

  test('the root leg is never wider than /16, whatever the nodes use inside', () => {
    expect(() => planTopology({ nodes: DEFAULT_LAB_NODES, lanPrefix: 4 })).toThrow(/LAN prefix 4 must be 8..16/);
    expect(planTopology({ nodes: DEFAULT_LAB_NODES, hostLegIp: '10.254.200.1' }).hostLeg.cidr).toBe('10.254.200.1/16');
  });
});

describe('node files', () => {
  const topology = planTopology({ nodes: DEFAULT_LAB_NODES });
  const [a, b, c] = topology.nodes;

  test('sshd: key-only root login, shim environment for sessions', () => {
    const config = sshdConfig(a);
    expect(config).toMatch(/^PermitRootLogin prohibit-password$/m);
    expect(config).toMatch(/^PasswordAuthentication no$/m);
    expect(config).toMatch(/^KbdInteractiveAuthentication no$/m);
    expect(config).toMatch(
      /^SetEnv CIAS_SHIM_LOG=\/var\/lib\/cias-lab\/shim-calls.log CIAS_SHIM_STATE=\/var\/lib\/cias-lab\/pve-state CIAS_SHIM_NODE=pve-lab-a-1-1 CIAS_SHIM_NODE_IP=10.254.1.1$/m,
    );
  });

  test('/etc/hosts maps the own name to the internal address (never loopback) and lists the peers', () => {
    const files = nodeFiles({ node: b, peers: topology.nodes, authorizedKeys: ['ssh-ed25519 AAAA op'], knownHosts: [] });
    const hosts = files.find((file) => file.path === '/etc/hosts')?.content;
    expect(hosts).toBe(
      '127.0.0.1\tlocalhost\n10.254.1.2\tpve.lab.b.1-2.example.com pve-lab-b-1-2\n' +
        '# cias lab: the other nodes, as the site DNS would resolve them\n' +
        '10.254.1.1\tpve.lab.a.1-1.example.com pve-lab-a-1-1\n10.254.1.3\tpve.lab.c.1-3.example.com pve-lab-c-1-3\n',
    );
    expect(files.find((file) => file.path === '/root/.ssh/authorized_keys')).toEqual({
      path: '/root/.ssh/authorized_keys',
      content: 'ssh-ed25519 AAAA op\n',
      mode: 0o600,
    });
  });

  test('known_hosts: every node by IP, name and FQDN; the VIP only with master-capable nodes\' keys', () => {
    const lines = knownHostsLines(
      [a, b, c].map((plan, index) => ({ plan, hostKey: `ssh-ed25519 KEY${index} root@${plan.name}\n` })),
      topology.vip,
    );
    expect(lines).toEqual([
      '10.254.1.1,pve-lab-a-1-1,pve.lab.a.1-1.example.com ssh-ed25519 KEY0 root@pve-lab-a-1-1',
      '10.254.1.2,pve-lab-b-1-2,pve.lab.b.1-2.example.com ssh-ed25519 KEY1 root@pve-lab-b-1-2',
      '10.254.1.3,pve-lab-c-1-3,pve.lab.c.1-3.example.com ssh-ed25519 KEY2 root@pve-lab-c-1-3',
      '10.254.0.254 ssh-ed25519 KEY0 root@pve-lab-a-1-1',
      '10.254.0.254 ssh-ed25519 KEY1 root@pve-lab-b-1-2',
    ]);
  });
});
