import { BlockList, isIP } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';

/** The peer when there is no socket, as under `app.request()`: every such request shares it. */
export const UNKNOWN_PEER = '0.0.0.0';

const MAPPED_V4 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/**
 * One spelling per address, so it makes one rate-limit key: IPv6 in RFC 5952 form, IPv4-mapped
 * IPv6 as IPv4. Accepts `[v6]`, `[v6]:port` and `v4:port` as proxies write them; anything else
 * (zone ids included) is `undefined`.
 */
export function normalizeIp(raw: string): string | undefined {
  let ip = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(ip);
  if (bracketed) ip = bracketed[1]!;
  else if (/^[\d.]+:\d{1,5}$/.test(ip)) ip = ip.slice(0, ip.indexOf(':'));
  const family = isIP(ip);
  if (family === 4) return ip;
  if (family !== 6 || ip.includes('%')) return undefined;
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const mapped = MAPPED_V4.exec(canonical);
  if (!mapped) return canonical;
  const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Parses `TRUSTED_PROXIES` entries (IPs or CIDRs, v4 or v6); a bad entry throws at start-up. */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.trim().split('/');
    const ip = normalizeIp(address);
    const family = ip && isIP(ip) === 4 ? 'ipv4' : 'ipv6';
    const bits = prefix === undefined ? undefined : Number(prefix);
    const maxBits = family === 'ipv4' ? 32 : 128;
    if (!ip || extra !== undefined || (bits !== undefined && !(Number.isInteger(bits) && bits >= 0 && bits <= maxBits && /^\d+$/.test(prefix!)))) {
      throw new Error(`trusted proxy ${JSON.stringify(entry)} is not an IP address or CIDR`);
    }
    if (bits === undefined) list.addAddress(ip, family);
    else list.addSubnet(ip, bits, family);
  }
  return list;
}

const isTrusted = (trusted: BlockList, ip: string) => trusted.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6');

/**
 * The client's address. `X-Forwarded-For` counts only when the peer is a trusted proxy: read
 * right to left, trusted hops are skipped and the first untrusted address is the client, since
 * everything left of it was written by the client itself. A malformed entry ends the walk at
 * the last trusted hop; a chain of trusted hops only yields its leftmost one.
 */
export function resolveClientIp(peer: string | undefined, xffHeader: string | undefined, trusted: BlockList): string {
  let client = (peer && normalizeIp(peer)) || UNKNOWN_PEER;
  if (!xffHeader || !isTrusted(trusted, client)) return client;
  const hops = xffHeader.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeIp(hops[i]!);
    if (!hop) return client;
    client = hop;
    if (!isTrusted(trusted, hop)) return hop;
  }
  return client;
}

/**
 * Sets `clientIp`, the one address rate limits, audit and sessions use (SECURITY.md §12). The
 * peer is the socket's; without one (`app.request()` in tests) it is `0.0.0.0`, which must be
 * listed as trusted for a test to exercise `X-Forwarded-For`.
 */
export function clientIp(options: { trustedProxies: readonly string[] }): MiddlewareHandler<AppEnv> {
  const trusted = trustedProxyList(options.trustedProxies);
  return async function clientIpMiddleware(c, next) {
    let peer: string | undefined;
    try {
      peer = getConnInfo(c).remote.address;
    } catch {
      // No Node socket behind this request (app.request(), another runtime): UNKNOWN_PEER.
    }
    c.set('clientIp', resolveClientIp(peer, c.req.header('x-forwarded-for'), trusted));
    await next();
  };
}
