import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * The caller's address: the socket peer, unless `trustProxy` hops of reverse proxies stand in front,
 * in which case the address those proxies saw is taken from the right end of X-Forwarded-For.
 * Entries further left are written by the client itself and are never believed. An entry that is
 * not an IP address (a client can write anything when a proxy passes its header on) is never
 * used either: the socket address stands in for it.
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string | null {
  const socketAddress = ipAddress(req.socket.remoteAddress);
  if (trustProxy <= 0) return socketAddress;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : header ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // hops: [client, proxy1, ..., proxyN-1]; the socket is proxy N.
  const candidate = hops.length >= trustProxy ? hops[hops.length - trustProxy] : hops[0];
  return ipAddress(candidate) ?? socketAddress;
}

const IPV4_MAPPED = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * The address in canonical text, or null when it is not an IP address. One address has one form,
 * so it has one rate-limit budget: IPv6 compressed and lower-cased, IPv4-mapped IPv6 as plain
 * IPv4, no zone id (which is unbounded text and means nothing past the first hop).
 */
function ipAddress(address: string | undefined | null): string | null {
  if (!address) return null;
  const version = isIP(address);
  if (version === 4) return address;
  if (version !== 6 || address.includes('%')) return null;
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
  const mapped = IPV4_MAPPED.exec(canonical);
  if (!mapped) return canonical;
  const [high, low] = [parseInt(mapped[1], 16), parseInt(mapped[2], 16)];
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}
