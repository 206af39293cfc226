/** A loopback subnet such as 127.20.0.0/16, its addresses as 32-bit numbers. */
export interface Subnet {
  first: number;
  last: number;
}

/** The subnet is not an IPv4 CIDR inside 127.0.0.0/8, or it is too small for the fleet. */
export class SubnetError extends Error {
  override name = 'SubnetError';
}

/** Parses `a.b.c.d/n`; only loopback subnets (127.0.0.0/8) are accepted. */
export function parseSubnet(cidr: string): Subnet {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const prefix = Number(match?.[5]);
  if (!match || octets.some((o) => o > 255) || prefix < 8 || prefix > 30) {
    throw new SubnetError(`expected a subnet like 127.20.0.0/16, got '${cidr}'`);
  }
  if (octets[0] !== 127) throw new SubnetError(`expected a loopback subnet (127.x), got '${cidr}'`);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(toNumber(octets) / size) * size;
  return { first, last: first + size - 1 };
}

/**
 * `count` host addresses of the subnet in order, skipping host parts ending in .0 or .255 and
 * any address in `taken`.
 */
export function allocateAddresses(subnet: Subnet, count: number, taken: Set<string>): string[] {
  const addresses: string[] = [];
  for (let n = subnet.first + 1; n < subnet.last && addresses.length < count; n++) {
    const lastOctet = n % 256;
    if (lastOctet === 0 || lastOctet === 255) continue;
    const address = toAddress(n);
    if (!taken.has(address)) addresses.push(address);
  }
  if (addresses.length < count) {
    throw new SubnetError(`the subnet has ${addresses.length} free addresses, ${count} needed`);
  }
  return addresses;
}

function toNumber(octets: number[]): number {
  return octets.reduce((n, o) => n * 256 + o, 0);
}

function toAddress(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}
