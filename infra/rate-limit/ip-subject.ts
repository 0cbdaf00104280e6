import { isIP } from 'node:net';

/**
 * What a per-IP limit should count: one IPv6 host usually holds a whole /64, so counting single
 * v6 addresses would hand it 2^64 buckets. Takes a normalized address.
 */
export function ipRateLimitSubject(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const groups = new URL(`http://[${ip}]/`).hostname.slice(1, -1).split('::');
  const head = groups[0] ? groups[0].split(':') : [];
  const tail = groups.length > 1 ? (groups[1] ? groups[1].split(':') : []) : [];
  const full = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return `${full.slice(0, 4).join(':')}::/64`;
}
