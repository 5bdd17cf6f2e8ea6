/** Small IPv4, name and value checks the gateway renderers share. Pure. */
import { ipFromSlot, slotFromVmid } from '../../model/addressing';

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const DOTTED_QUAD = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

export function isIpv4(text: string): boolean {
  return DOTTED_QUAD.test(text);
}

export function ipv4ToInt(ip: string): number {
  const [a, b, c, d] = ip.split('.').map(Number);
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

export function intToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export function prefixToNetmask(prefix: number): string {
  return intToIpv4(prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0);
}

export function networkOf(ip: string, prefix: number): string {
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return intToIpv4((ipv4ToInt(ip) & mask) >>> 0);
}

export function inSubnet(ip: string, network: string, prefix: number): boolean {
  return networkOf(ip, prefix) === networkOf(network, prefix);
}

export function requireIpv4(value: string, what: string): string {
  if (!isIpv4(value)) throw new Error(`${what}: not an IPv4 address: ${JSON.stringify(value)}`);
  return value;
}

export function requirePrefix(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 32) throw new Error(`${what}: not a prefix length: ${value}`);
  return value;
}

export function requirePort(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${what}: not a port: ${value}`);
  return value;
}

export function normalizeMac(value: string, what: string): string {
  if (!MAC.test(value)) throw new Error(`${what}: not a MAC address: ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

export function isDnsLabel(text: string): boolean {
  return DNS_LABEL.test(text);
}

/** A host name: dot-separated DNS labels, no trailing dot, at most 253 characters. */
export function isHostName(text: string): boolean {
  return text.length > 0 && text.length <= 253 && text.split('.').every(isDnsLabel);
}

/** A Linux interface name as `ip link` accepts it (at most 15 bytes, no `/`, `:` or whitespace). */
export function requireInterfaceName(value: string, what: string): string {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(value)) throw new Error(`${what}: not an interface name: ${JSON.stringify(value)}`);
  return value;
}

/**
 * A tenant VM's VMID, VM-management index and internal address agree (SPEC §3: VMID E*1000 + a*100 + b
 * → index E, 10.E.a.b). So two VMs with distinct VMIDs never share an internal address.
 */
export function checkTenantAddress(vm: { readonly vmid: number; readonly externalIndex: number; readonly internalIp: string }): void {
  const slot = slotFromVmid(vm.vmid);
  if (!slot) throw new Error(`VMID ${vm.vmid} is not a tenant VMID (E*1000 + a*100 + b)`);
  if (vm.externalIndex !== slot.externalIndex) throw new Error(`VM ${vm.vmid}: externalIndex ${vm.externalIndex}, VMID says ${slot.externalIndex}`);
  const internalIp = ipFromSlot(slot);
  if (vm.internalIp !== internalIp) throw new Error(`VM ${vm.vmid}: internalIp ${vm.internalIp}, VMID says ${internalIp}`);
}
