import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * A siteverify endpoint for development and tests, so no CAPTCHA provider is needed locally:
 * `POST /siteverify` succeeds when `secret` is the configured one and the token starts with
 * `pass`. A dev or test client gets past the CAPTCHA by sending e.g. `pass-anything`; any other
 * token fails, as an unsolved challenge would.
 */
export function createLocalCaptchaApp(options: { secret: string }) {
  const expected = digest(options.secret);
  return new Hono().post('/siteverify', async (c) => {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const { secret, response } = form as Record<string, unknown>;
    if (typeof secret !== 'string' || !timingSafeEqual(digest(secret), expected)) {
      return c.json({ success: false, 'error-codes': ['invalid-input-secret'] });
    }
    if (typeof response !== 'string' || !response.startsWith('pass')) {
      return c.json({ success: false, 'error-codes': ['invalid-input-response'] });
    }
    return c.json({ success: true, challenge_ts: new Date().toISOString(), hostname: 'localhost', 'error-codes': [] });
  });
}
