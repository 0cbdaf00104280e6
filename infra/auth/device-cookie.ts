import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * The recognised-device cookie: set at a successful login, it tells the login guard that a
 * failure comes from a device that has signed in to this account before, so a stranger's
 * failures, which lock the account for unrecognised devices, do not lock its owner out.
 * Value: `<deviceId>.<HMAC(key, account + deviceId)>`; it names no account and no user.
 */
export function createDeviceCookies(key: string) {
  const mac = (account: string, deviceId: string) =>
    createHmac('sha256', `device-cookie:${key}`).update(`${account}\n${deviceId}`).digest('base64url');
  return {
    issue(account: string): string {
      const deviceId = randomUUID();
      return `${deviceId}.${mac(account, deviceId)}`;
    },
    recognises(account: string, cookie: string | undefined): boolean {
      if (!cookie) return false;
      const [deviceId, given, extra] = cookie.split('.');
      if (!deviceId || !given || extra !== undefined) return false;
      const expected = Buffer.from(mac(account, deviceId));
      const actual = Buffer.from(given);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
}
export type DeviceCookies = ReturnType<typeof createDeviceCookies>;
