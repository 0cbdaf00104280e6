import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * The recognised-device cookie: set at a successful login, it tells the login guard that a
 * failure comes from a device that has signed in to this account before, so a stranger's
 * failures, which lock the account for unrecognised devices, do not lock its owner out.
 * Value: `<deviceId>.<HMAC(key, account + deviceId + password hash)>`; it names no account and no user.
 * The MAC covers the account's current password hash, so a password reset or change ends every
 * device's trust: whoever held a device before the change is a stranger again.
 */
export function createDeviceCookies(key: string) {
  const mac = (account: string, credential: string | null | undefined, deviceId: string) => {
    const vouchedBy = createHash('sha256').update(credential ?? '').digest('base64url');
    return createHmac('sha256', `device-cookie:${key}`).update(`${account}\n${deviceId}\n${vouchedBy}`).digest('base64url');
  };
  return {
    /** A cookie for a new device of `account`, valid while its password hash is `credential`. */
    issue(account: string, credential: string | null | undefined): string {
      const deviceId = randomUUID();
      return `${deviceId}.${mac(account, credential, deviceId)}`;
    },
    /** The device's id when the cookie was issued to this account under its current password; else undefined. */
    recognise(account: string, credential: string | null | undefined, cookie: string | undefined): string | undefined {
      if (!cookie) return undefined;
      const [deviceId, given, extra] = cookie.split('.');
      if (!deviceId || !given || extra !== undefined) return undefined;
      const expected = Buffer.from(mac(account, credential, deviceId));
      const actual = Buffer.from(given);
      return expected.length === actual.length && timingSafeEqual(expected, actual) ? deviceId : undefined;
    },
  };
}
export type DeviceCookies = ReturnType<typeof createDeviceCookies>;
