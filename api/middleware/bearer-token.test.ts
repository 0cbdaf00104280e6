import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../env.js';
import { bearerToken } from './bearer-token.js';
import { onError } from './errors.js';

const TOKEN = 'scrape-7d1e0c9a4b';
const app = new Hono<AppEnv>()
  .onError(onError)
  .use(bearerToken({ token: TOKEN, realm: 'metrics' }))
  .get('/metrics', (c) => c.text('tc_up 1\n'));

const scrape = (authorization?: string) => app.request('/metrics', { headers: authorization === undefined ? {} : { Authorization: authorization } });

describe('bearerToken middleware', () => {
  it('lets the token through, whatever the case of the scheme', async () => {
    expect(await (await scrape(`Bearer ${TOKEN}`)).text()).toBe('tc_up 1\n');
    expect((await scrape(`bearer ${TOKEN}`)).status).toBe(200);
  });

  it('answers 401 with a Bearer challenge for a missing, wrong, partial or differently-schemed token, and shows nothing', async () => {
    for (const authorization of [undefined, '', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${btoa(`prometheus:${TOKEN}`)}`, TOKEN, `Bearer ${TOKEN} extra`]) {
      const response = await scrape(authorization);
      expect(response.status, String(authorization)).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      const body = await response.text();
      expect(body).toContain('UNAUTHENTICATED');
      expect(body).not.toContain('tc_up');
      expect(body).not.toContain(TOKEN);
    }
  });
});
