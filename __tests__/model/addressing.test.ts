import {
  TOTAL_VM_CAPACITY,
  allSlots,
  defaultInternalPort,
  externalPortRange,
  hostNames,
  ipFromSlot,
  ipToVmid,
  isNasIp,
  isNodeIp,
  macForVmid,
  resolveVmAddress,
  slotFromIp,
  slotFromVmid,
  vmidFromSlot,
  vmidToIp,
} from '../../model/addressing';

describe('VMID ↔ IP ↔ ports (SPEC §3)', () => {
  it.each([
    [101, '10.0.1.1', 10100, 10199, 0],
    [10501, '10.10.5.1', 50100, 50199, 10],
    [250599, '10.250.5.99', 59900, 59999, 250],
    [1199, '10.1.1.99', 19900, 19999, 1],
  ])('VMID %i → %s, ports %i..%i on VM-management IP index %i', (vmid, ip, first, last, index) => {
    expect(vmidToIp(vmid)).toBe(ip);
    expect(ipToVmid(ip)).toBe(vmid);
    const slot = slotFromVmid(vmid)!;
    expect(slot.externalIndex).toBe(index);
    expect(externalPortRange(slot)).toEqual({ first, last });
  });

  it.each([
    [100, 'the gateway'],
    [200, 'x00'],
    [1100, 'b = 0'],
    [601, 'a > 5'],
    [99, 'below the smallest'],
    [251101, 'E > 250'],
    [10, 'too short'],
    [0, 'zero'],
    [-101, 'negative'],
    [101.5, 'not an integer'],
    [1000, 'a = 0'],
  ])('rejects VMID %s (%s)', (vmid) => {
    expect(slotFromVmid(vmid)).toBeUndefined();
    expect(vmidToIp(vmid)).toBeUndefined();
  });

  it.each(['10.0.0.1', '10.0.6.1', '10.251.1.1', '10.0.1.100', '11.0.1.1', '10.0.1', 'x'])('rejects IP %s', (ip) => {
    expect(slotFromIp(ip)).toBeUndefined();
    expect(ipToVmid(ip)).toBeUndefined();
  });

  it('round-trips every one of the 124,245 valid VMIDs, each with its own IP, port block and MAC', () => {
    const ips = new Set<string>();
    const macs = new Set<string>();
    let count = 0;
    let previous = 0;
    for (const slot of allSlots()) {
      const vmid = vmidFromSlot(slot);
      if (vmid <= previous) throw new Error(`VMIDs out of order at ${vmid}`);
      previous = vmid;
      const ip = ipFromSlot(slot);
      if (ipToVmid(ip) !== vmid || vmidToIp(vmid) !== ip) throw new Error(`round trip failed for ${vmid}`);
      const back = slotFromVmid(vmid)!;
      if (back.externalIndex !== slot.externalIndex || back.a !== slot.a || back.b !== slot.b) {
        throw new Error(`slot round trip failed for ${vmid}`);
      }
      ips.add(ip);
      macs.add(macForVmid(vmid));
      count++;
    }
    expect(count).toBe(124245);
    expect(TOTAL_VM_CAPACITY).toBe(124245);
    expect(ips.size).toBe(count);
    expect(macs.size).toBe(count);
  });

  it('VMs of one VM-management IP never share an external port', () => {
    const ports = new Set<number>();
    for (const slot of allSlots()) {
      if (slot.externalIndex !== 7) continue;
      const { first, last } = externalPortRange(slot);
      for (let port = first; port <= last; port++) {
        if (ports.has(port)) throw new Error(`port ${port} taken twice`);
        ports.add(port);
      }
    }
    expect(ports.size).toBe(495 * 100);
  });

  it('default port rule: external suffix is the internal port, suffix 00 has no default', () => {
    expect(defaultInternalPort(50122)).toBe(22);
    expect(defaultInternalPort(50180)).toBe(80);
    expect(defaultInternalPort(10101)).toBe(1);
    expect(defaultInternalPort(50100)).toBeUndefined();
  });

  it('MACs are locally administered unicast and encode the VMID', () => {
    expect(macForVmid(10501)).toBe('02:C1:A5:00:29:05');
    expect(macForVmid(100)).toBe('02:C1:A5:00:00:64');
    const firstOctet = parseInt(macForVmid(250599).slice(0, 2), 16);
    expect(firstOctet & 0b10).toBe(0b10);
    expect(firstOctet & 0b01).toBe(0);
  });

  it('cias addr resolves a VMID or an IP to the same answer', () => {
    const byVmid = resolveVmAddress('10501');
    expect(byVmid).toEqual({ vmid: 10501, ip: '10.10.5.1', externalIndex: 10, ports: { first: 50100, last: 50199 } });
    expect(resolveVmAddress('10.10.5.1')).toEqual(byVmid);
    expect(resolveVmAddress('100')).toBeUndefined();
    expect(resolveVmAddress('10.254.1.1')).toBeUndefined();
  });
});

describe('hostnames and host ranges (SPEC §2)', () => {
  it('builds the SPEC example hostname and a Proxmox node name that is a DNS label', () => {
    expect(hostNames('pve', 'master-rack', 'a', '10.254.1.1', 'example.com')).toEqual({
      fqdn: 'pve.master-rack.a.1-1.example.com',
      name: 'pve-master-rack-a-1-1',
    });
    expect(hostNames('nas', 'master-rack', 'a', '10.253.1.1', 'example.com').fqdn).toBe('nas.master-rack.a.1-1.example.com');
  });

  it('knows node and NAS ranges', () => {
    expect(isNodeIp('10.254.1.1')).toBe(true);
    expect(isNodeIp('10.254.5.99')).toBe(true);
    expect(isNodeIp('10.254.0.254')).toBe(false);
    expect(isNodeIp('10.254.6.1')).toBe(false);
    expect(isNodeIp('10.254.1.100')).toBe(false);
    expect(isNasIp('10.253.1.1')).toBe(true);
    expect(isNasIp('10.254.1.1')).toBe(false);
  });
});
