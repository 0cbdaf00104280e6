import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

/** docs/api.md "Authentication": the cookie names and attributes browsers get. */
export const COOKIES = {
  access: '__Host-tc_access',
  refresh: '__Secure-tc_refresh',
  csrf: '__Host-tc_csrf',
  device: '__Host-tc_device',
} as const;
export const REFRESH_COOKIE_PATH = '/api/v1/auth';
const DEVICE_COOKIE_MAX_AGE = 180 * 24 * 3600;

export interface IssuedTokens {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  csrfToken: string;
}

const secondsUntil = (date: Date) => Math.max(0, Math.floor((date.getTime() - Date.now()) / 1000));

export function setSessionCookies(c: Context, tokens: IssuedTokens) {
  const strict = { secure: true, sameSite: 'Strict', path: '/' } as const;
  setCookie(c, 'tc_access', tokens.accessToken, { ...strict, prefix: 'host', httpOnly: true, maxAge: secondsUntil(tokens.accessTokenExpiresAt) });
  setCookie(c, 'tc_refresh', tokens.refreshToken, {
    ...strict, prefix: 'secure', path: REFRESH_COOKIE_PATH, httpOnly: true, maxAge: secondsUntil(tokens.refreshTokenExpiresAt),
  });
  // Readable by the page's script, which echoes it in X-CSRF-Token.
  setCookie(c, 'tc_csrf', tokens.csrfToken, { ...strict, prefix: 'host', maxAge: secondsUntil(tokens.refreshTokenExpiresAt) });
}

export function setDeviceCookie(c: Context, value: string) {
  setCookie(c, 'tc_device', value, { secure: true, sameSite: 'Strict', path: '/', prefix: 'host', httpOnly: true, maxAge: DEVICE_COOKIE_MAX_AGE });
}

export function clearSessionCookies(c: Context) {
  deleteCookie(c, 'tc_access', { secure: true, path: '/', prefix: 'host' });
  deleteCookie(c, 'tc_refresh', { secure: true, path: REFRESH_COOKIE_PATH, prefix: 'secure' });
  deleteCookie(c, 'tc_csrf', { secure: true, path: '/', prefix: 'host' });
}

export const readCookie = {
  access: (c: Context) => getCookie(c, 'tc_access', 'host'),
  refresh: (c: Context) => getCookie(c, 'tc_refresh', 'secure'),
  csrf: (c: Context) => getCookie(c, 'tc_csrf', 'host'),
  device: (c: Context) => getCookie(c, 'tc_device', 'host'),
};
