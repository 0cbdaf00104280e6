import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import fc from 'fast-check';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../env.js';
import { clientIp, normalizeIp, resolveClientIp, trustedProxyList } from './client-ip.js';
import { ipRateLimitSubject } from '../../infra/rate-limit/ip-subject.js';

const proxies = trustedProxyList(['10.0.0.0/8', '192.168.1.7', '2001:db8:aaaa::/48', '::1']);
const resolve = (peer: string | undefined, xff?: string) => resolveClientIp(peer, xff, proxies);

describe('normalizeIp', () => {
  it('gives one spelling per address', () => {
    expect(normalizeIp(' 203.0.113.9 ')).toBe('203.0.113.9');
    expect(normalizeIp('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(normalizeIp('::FFFF:cb00:7109')).toBe('203.0.113.9');
    expect(normalizeIp('0:0:0:0:0:ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(normalizeIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(normalizeIp('[2001:db8::1]:443')).toBe('2001:db8::1');
    expect(normalizeIp('203.0.113.9:5123')).toBe('203.0.113.9');
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', 'unknown', '_hidden', '203.0.113', '203.0.113.256', '01.2.3.4', '1.2.3.4.5', 'fe80::1%eth0', '[1.2.3.4]x', '[2001:db8::1', 'a b']) {
      expect(normalizeIp(bad), bad).toBeUndefined();
    }
  });
});

describe('resolveClientIp', () => {
  it('ignores X-Forwarded-For from an untrusted peer, however it is spelled', () => {
    expect(resolve('203.0.113.9', '1.1.1.1')).toBe('203.0.113.9');
    expect(resolve('203.0.113.9', '10.0.0.1, 1.1.1.1')).toBe('203.0.113.9');
    expect(resolve('::ffff:203.0.113.9', '1.1.1.1')).toBe('203.0.113.9');
  });

  it('takes the address the trusted proxy saw', () => {
    expect(resolve('10.1.2.3', '198.51.100.4')).toBe('198.51.100.4');
    expect(resolve('::ffff:10.1.2.3', '198.51.100.4')).toBe('198.51.100.4');
    expect(resolve('::1', '2001:DB8:bbbb::5')).toBe('2001:db8:bbbb::5');
    expect(resolve('10.1.2.3')).toBe('10.1.2.3');
  });

  it('walks a chain of proxies right to left and stops at the first untrusted hop', () => {
    expect(resolve('10.0.0.1', '198.51.100.4, 192.168.1.7, 10.9.9.9')).toBe('198.51.100.4');
    // What the client wrote itself (left of the first untrusted hop) never counts.
    expect(resolve('10.0.0.1', '6.6.6.6, 198.51.100.4, 10.9.9.9')).toBe('198.51.100.4');
    expect(resolve('10.0.0.1', '10.5.5.5, 198.51.100.4, 2001:db8:aaaa::9')).toBe('198.51.100.4');
    // Several headers arrive joined with commas.
    expect(resolve('10.0.0.1', '6.6.6.6,198.51.100.4,10.9.9.9')).toBe('198.51.100.4');
  });

  it('gives the leftmost hop when every hop is trusted', () => {
    expect(resolve('10.0.0.1', '10.0.0.3, 10.0.0.2')).toBe('10.0.0.3');
  });

  it('ends the walk at the last trusted hop on a malformed entry', () => {
    expect(resolve('10.0.0.1', 'garbage')).toBe('10.0.0.1');
    expect(resolve('10.0.0.1', '198.51.100.4, garbage')).toBe('10.0.0.1');
    expect(resolve('10.0.0.1', '198.51.100.4, garbage, 10.0.0.2')).toBe('10.0.0.2');
    expect(resolve('10.0.0.1', '198.51.100.4,, 10.0.0.2')).toBe('10.0.0.2');
    expect(resolve('10.0.0.1', '198.51.100.4, ')).toBe('10.0.0.1');
    expect(resolve('10.0.0.1', '')).toBe('10.0.0.1');
  });

  it('uses 0.0.0.0 when there is no usable peer', () => {
    expect(resolve(undefined, '198.51.100.4')).toBe('0.0.0.0');
    expect(resolve('nonsense', '198.51.100.4')).toBe('0.0.0.0');
    expect(resolveClientIp(undefined, '198.51.100.4', trustedProxyList(['0.0.0.0']))).toBe('198.51.100.4');
  });

  it('never lets an untrusted peer choose its address, whatever the header', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.string(), (peer, xff) => {
        fc.pre(!proxies.check(peer, 'ipv4'));
        expect(resolve(peer, xff)).toBe(peer);
      }),
      { numRuns: 300 },
    );
  });

  it('always answers with an address from the header or the peer', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), { maxLength: 6 }), (hops) => {
        const answer = resolve('10.0.0.1', hops.join(','));
        expect([...hops.map(normalizeIp), '10.0.0.1']).toContain(answer);
      }),
      { numRuns: 300 },
    );
  });
});

describe('trustedProxyList', () => {
  it('refuses entries that are not IPs or CIDRs', () => {
    for (const bad of ['proxy.local', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/8/1', '2001:db8::/129', '10.0.0.0/-1', '10.0.0.0/8x']) {
      expect(() => trustedProxyList([bad]), bad).toThrow(/not an IP address or CIDR/);
    }
  });
});

describe('ipRateLimitSubject', () => {
  it('counts IPv4 per address and IPv6 per /64', () => {
    expect(ipRateLimitSubject('203.0.113.9')).toBe('203.0.113.9');
    expect(ipRateLimitSubject('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(ipRateLimitSubject('2001:db8::7')).toBe('2001:db8:0:0::/64');
    expect(ipRateLimitSubject('::1')).toBe('0:0:0:0::/64');
  });
});

describe('clientIp middleware', () => {
  const app = (trustedProxies: string[]) =>
    new Hono<AppEnv>().use(clientIp({ trustedProxies })).get('/', (c) => c.text(c.get('clientIp')));

  it('uses 0.0.0.0 as the peer under app.request(), and X-Forwarded-For only if that is trusted', async () => {
    const headers = { 'X-Forwarded-For': '198.51.100.4' };
    expect(await (await app([]).request('/', { headers })).text()).toBe('0.0.0.0');
    expect(await (await app(['0.0.0.0']).request('/', { headers })).text()).toBe('198.51.100.4');
  });

  it("reads the socket's peer when served, and trusts its X-Forwarded-For only when listed", async () => {
    for (const [trusted, expected] of [[[], '127.0.0.1'], [['127.0.0.0/8'], '198.51.100.4']] as const) {
      const server = serve({ fetch: app([...trusted]).fetch, hostname: '127.0.0.1', port: 0 });
      await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'X-Forwarded-For': '198.51.100.4' } });
        expect(await response.text()).toBe(expected);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });
});
