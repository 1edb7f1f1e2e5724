/**
 * SSRF guard for outbound webhooks: in production a subscription's URL may not name, or
 * resolve to, a loopback, private, link-local, unique-local, CGNAT, multicast or otherwise
 * non-public address (else anyone with the `events` scope could make the worker call the
 * metadata service or an internal admin port). Checked when the URL is set and again before
 * every send (DNS may change in between). WEBHOOK_ALLOWED_HOSTS names hosts let through anyway.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['64:ff9b::', 96],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address (v4 or v6, v4-mapped v6 included) is not a public unicast address. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPrivateAddress(mapped[1]);
  const family = isIP(address);
  if (family === 0) return true;
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export interface OutboundPolicy {
  /** Refuse private addresses (production). */
  readonly refusePrivate: boolean;
  /** Host names (lower case) let through whatever they resolve to. */
  readonly allowedHosts: readonly string[];
}

/** Why `url` may not be called under `policy`, or undefined when it may. Resolves the host. */
export async function outboundRefusal(
  url: string,
  policy: OutboundPolicy,
  resolve = lookupAll,
): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'only http and https URLs';
  if (parsed.username || parsed.password) return 'no credentials in the URL';
  if (!policy.refusePrivate) return undefined;
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (policy.allowedHosts.includes(host)) return undefined;
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await resolve(host);
  } catch {
    return `${host} does not resolve`;
  }
  const bad = addresses.find(isPrivateAddress);
  return bad === undefined ? undefined : `${host} resolves to a private address (${bad})`;
}

async function lookupAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}
