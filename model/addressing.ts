/**
 * The address plan of SPEC §2–3, as pure and total functions.
 *
 * A tenant VMID is `E*1000 + P` with `P = a*100 + b`: E ∈ 0..250 picks the VM-management external IP,
 * a ∈ 1..5 and b ∈ 1..99 give the internal IP `10.E.a.b`, and the VM owns external ports
 * `P*100 .. P*100+99` on VM-management IP E. VMID 100 belongs to the gateway.
 */
import { ipv4Octets, isIpv4 } from './ipv4';

export const GATEWAY_VMID = 100;
export const MAX_EXTERNAL_INDEX = 250;
export const EXTERNAL_INDEX_COUNT = MAX_EXTERNAL_INDEX + 1;
export const MAX_RACK_ROW = 5;
export const MAX_SLOT = 99;
export const VMS_PER_EXTERNAL_INDEX = MAX_RACK_ROW * MAX_SLOT;
export const TOTAL_VM_CAPACITY = VMS_PER_EXTERNAL_INDEX * EXTERNAL_INDEX_COUNT;
export const PORTS_PER_VM = 100;
/** The largest tenant VMID: E 250, a 5, b 99. */
export const MAX_VMID = MAX_EXTERNAL_INDEX * 1000 + MAX_RACK_ROW * 100 + MAX_SLOT;

export const LAN = {
  network: '10.0.0.0',
  prefix: 8,
  netmask: '255.0.0.0',
  gatewayIp: '10.0.0.254',
  masterVip: '10.254.0.254',
  masterVipName: 'cias-pve-master',
  bootstrapBridgeIp: '10.254.0.1',
  nodeManagementCidr: '10.254.0.0/16',
  dhcpPoolFirst: '10.251.0.1',
  dhcpPoolLast: '10.251.254.254',
} as const;

export const RULE_TEXT = {
  vmid: `E*1000 + a*100 + b with E in 0..${MAX_EXTERNAL_INDEX}, a in 1..${MAX_RACK_ROW}, b in 1..${MAX_SLOT}`,
  vmIp: `10.{0..${MAX_EXTERNAL_INDEX}}.{1..${MAX_RACK_ROW}}.{1..${MAX_SLOT}}`,
  nodeIp: `10.254.{1..${MAX_RACK_ROW}}.{1..${MAX_SLOT}}`,
  nasIp: `10.253.{1..${MAX_RACK_ROW}}.{1..${MAX_SLOT}}`,
} as const;

/** The three numbers a tenant VMID is made of. */
export interface VmSlotAddress {
  /** Index of the VM-management external IP, 0..250. */
  readonly externalIndex: number;
  /** Third octet of the internal IP and first digit of P, 1..5. */
  readonly a: number;
  /** Fourth octet of the internal IP and last two digits of P, 1..99. */
  readonly b: number;
}

function inRange(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

export function isValidSlot(slot: VmSlotAddress): boolean {
  return (
    inRange(slot.externalIndex, 0, MAX_EXTERNAL_INDEX) &&
    inRange(slot.a, 1, MAX_RACK_ROW) &&
    inRange(slot.b, 1, MAX_SLOT)
  );
}

/** Splits a tenant VMID into E, a, b; undefined for anything that is not a valid tenant VMID. */
export function slotFromVmid(vmid: number): VmSlotAddress | undefined {
  if (!Number.isInteger(vmid) || vmid < 101) return undefined;
  const externalIndex = Math.floor(vmid / 1000);
  const portBlock = vmid % 1000;
  const slot = { externalIndex, a: Math.floor(portBlock / 100), b: portBlock % 100 };
  return isValidSlot(slot) ? slot : undefined;
}

export function vmidFromSlot(slot: VmSlotAddress): number {
  if (!isValidSlot(slot)) throw new RangeError(`not a valid VM slot: ${JSON.stringify(slot)}`);
  return slot.externalIndex * 1000 + slot.a * 100 + slot.b;
}

export function isTenantVmid(vmid: number): boolean {
  return slotFromVmid(vmid) !== undefined;
}

export function ipFromSlot(slot: VmSlotAddress): string {
  if (!isValidSlot(slot)) throw new RangeError(`not a valid VM slot: ${JSON.stringify(slot)}`);
  return `10.${slot.externalIndex}.${slot.a}.${slot.b}`;
}

/** Inverse of ipFromSlot; undefined for an address outside 10.{0..250}.{1..5}.{1..99}. */
export function slotFromIp(ip: string): VmSlotAddress | undefined {
  if (!isIpv4(ip)) return undefined;
  const [first, externalIndex, a, b] = ipv4Octets(ip);
  if (first !== 10) return undefined;
  const slot = { externalIndex, a, b };
  return isValidSlot(slot) ? slot : undefined;
}

export function vmidToIp(vmid: number): string | undefined {
  const slot = slotFromVmid(vmid);
  return slot && ipFromSlot(slot);
}

export function ipToVmid(ip: string): number | undefined {
  const slot = slotFromIp(ip);
  return slot && vmidFromSlot(slot);
}

/** The port block P of a VMID: external ports are P*100 .. P*100+99. */
export function portBlock(slot: VmSlotAddress): number {
  return slot.a * 100 + slot.b;
}

export interface PortRange {
  readonly first: number;
  readonly last: number;
}

export function externalPortRange(slot: VmSlotAddress): PortRange {
  const first = portBlock(slot) * PORTS_PER_VM;
  return { first, last: first + PORTS_PER_VM - 1 };
}

/**
 * Default internal port for an external port of a VM: the last two digits (P*100+22 → 22,
 * P*100+80 → 80). Suffix 00 would mean port 0, so it has no default target.
 */
export function defaultInternalPort(externalPort: number): number | undefined {
  const suffix = externalPort % PORTS_PER_VM;
  return suffix === 0 ? undefined : suffix;
}

/**
 * A deterministic, locally administered unicast MAC for a VMID (02:C1:A5 + the VMID in 24 bits), so
 * the gateway can reserve the VM's IP before the VM exists. VMIDs stay below 2^24.
 */
export function macForVmid(vmid: number): string {
  if (!Number.isInteger(vmid) || vmid < 100 || vmid >= 1 << 24) {
    throw new RangeError(`cannot derive a MAC for VMID ${vmid}`);
  }
  const hex = vmid.toString(16).padStart(6, '0').toUpperCase();
  return `02:C1:A5:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}`;
}

export function isNodeIp(ip: string): boolean {
  return isManagedHostIp(ip, 254);
}

export function isNasIp(ip: string): boolean {
  return isManagedHostIp(ip, 253);
}

function isManagedHostIp(ip: string, secondOctet: number): boolean {
  if (!isIpv4(ip)) return false;
  const [first, second, third, fourth] = ipv4Octets(ip);
  return first === 10 && second === secondOctet && inRange(third, 1, MAX_RACK_ROW) && inRange(fourth, 1, MAX_SLOT);
}

export type HostRole = 'pve' | 'nas';

/**
 * SPEC §2 hostnames: `pve.<rack>.<position>.<o3>-<o4>.<domain>`. Proxmox names a node after the first
 * label of its hostname, which would be `pve` on every node, so the Proxmox node name joins the same
 * parts with `-` instead: `pve-<rack>-<position>-<o3>-<o4>`.
 */
export function hostNames(
  role: HostRole,
  rack: string,
  position: string,
  ip: string,
  domain: string,
): { fqdn: string; name: string } {
  const [, , third, fourth] = ipv4Octets(ip);
  return {
    fqdn: `${role}.${rack}.${position}.${third}-${fourth}.${domain}`,
    name: `${role}-${rack}-${position}-${third}-${fourth}`,
  };
}

/** Everything `cias addr` prints for one tenant VM. */
export interface VmAddress {
  readonly vmid: number;
  readonly ip: string;
  readonly externalIndex: number;
  readonly ports: PortRange;
}

/** Accepts a VMID ("10501") or an internal IP ("10.10.5.1"). */
export function resolveVmAddress(query: string): VmAddress | undefined {
  const trimmed = query.trim();
  const slot = /^\d+$/.test(trimmed) ? slotFromVmid(Number(trimmed)) : slotFromIp(trimmed);
  if (!slot) return undefined;
  return {
    vmid: vmidFromSlot(slot),
    ip: ipFromSlot(slot),
    externalIndex: slot.externalIndex,
    ports: externalPortRange(slot),
  };
}

/** Every valid tenant slot, in VMID order. 124,245 of them. */
export function* allSlots(): Generator<VmSlotAddress> {
  for (let externalIndex = 0; externalIndex <= MAX_EXTERNAL_INDEX; externalIndex++) {
    for (let a = 1; a <= MAX_RACK_ROW; a++) {
      for (let b = 1; b <= MAX_SLOT; b++) yield { externalIndex, a, b };
    }
  }
}
