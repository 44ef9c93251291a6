import type { IncomingMessage } from 'node:http';

/**
 * The caller's address: the socket peer, unless `trustProxy` hops of reverse proxies stand in front,
 * in which case the address those proxies saw is taken from the right end of X-Forwarded-For.
 * Entries further left are written by the client itself and are never believed.
 */
export function clientAddress(req: IncomingMessage, trustProxy: number): string | null {
  const socketAddress = req.socket.remoteAddress ?? null;
  if (trustProxy <= 0) return normalize(socketAddress);
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : header ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // hops: [client, proxy1, ..., proxyN-1]; the socket is proxy N.
  const candidate = hops.length >= trustProxy ? hops[hops.length - trustProxy] : hops[0];
  return normalize(candidate ?? socketAddress);
}

function normalize(address: string | null): string | null {
  if (!address) return null;
  return address.startsWith('::ffff:') ? address.slice(7) : address.slice(0, 64);
}
