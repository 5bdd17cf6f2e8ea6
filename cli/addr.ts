import { resolveVmAddress, RULE_TEXT } from '../model/addressing';
import { EXIT_BAD_INPUT, EXIT_OK } from './exit-codes';
import { Output } from './validate';

/** VM-management IPs are site-specific; with a cluster.yaml at hand, addr names the external IP too. */
export function addrCommand(query: string, externalIps: ReadonlyMap<number, string> | undefined, io: Output): number {
  const address = resolveVmAddress(query);
  if (!address) {
    io.err(`cias addr: ${query} is neither a tenant VMID (${RULE_TEXT.vmid}) nor a tenant IP (${RULE_TEXT.vmIp})`);
    return EXIT_BAD_INPUT;
  }
  const externalIp = externalIps?.get(address.externalIndex) ?? null;
  io.out(JSON.stringify({ ...address, externalIp }, null, 2));
  return EXIT_OK;
}
