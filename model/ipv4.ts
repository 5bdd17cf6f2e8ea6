/** IPv4 helpers on dotted-quad strings. Pure. */

const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIpv4(text: string): boolean {
  return DOTTED_QUAD.test(text);
}

export function ipv4Octets(ip: string): [number, number, number, number] {
  if (!isIpv4(ip)) throw new Error(`not an IPv4 address: ${ip}`);
  const [a, b, c, d] = ip.split('.').map(Number);
  return [a, b, c, d];
}

export function ipv4ToInt(ip: string): number {
  const [a, b, c, d] = ipv4Octets(ip);
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

export function intToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Prefix length of a contiguous netmask, or undefined when the mask has holes. */
export function netmaskToPrefix(netmask: string): number | undefined {
  if (!isIpv4(netmask)) return undefined;
  const bits = ipv4ToInt(netmask);
  const prefix = 32 - Math.log2((~bits >>> 0) + 1);
  return Number.isInteger(prefix) ? prefix : undefined;
}

export function prefixToNetmask(prefix: number): string {
  return intToIpv4(prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0);
}

export function sameSubnet(a: string, b: string, prefix: number): boolean {
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return ((ipv4ToInt(a) & mask) >>> 0) === ((ipv4ToInt(b) & mask) >>> 0);
}

/** Network and broadcast addresses of the subnet holding `ip`. */
export function subnetBounds(ip: string, prefix: number): { network: string; broadcast: string } {
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  const network = (ipv4ToInt(ip) & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  return { network: intToIpv4(network), broadcast: intToIpv4(broadcast) };
}
