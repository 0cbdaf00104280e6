import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Booking = components['schemas']['Booking'];
export type Problem = components['schemas']['Problem'];
export type Money = Booking['price'];
export type { components, paths };

const CSRF_COOKIE = '__Host-tc_csrf';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function cookie(name: string): string | undefined {
  return document.cookie.split('; ').find((pair) => pair.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** What the session layer (session.ts) plugs in: a refresh to try once on a 401, and what to do when it fails. */
export const authHooks = {
  refresh: async (): Promise<boolean> => false,
  signedOut: (): void => {},
};

// Cookie sessions: the browser sends the cookies; state-changing calls echo the CSRF cookie (docs/api.md "Authentication").
const csrf: Middleware = {
  onRequest({ request }) {
    const token = cookie(CSRF_COOKIE);
    if (!SAFE.has(request.method) && token) request.headers.set('x-csrf-token', token);
    return request;
  },
};

// Calls that start a session or stand for one themselves: their 401 is their answer, not a lapsed access token.
const OWN_CREDENTIALS = ['/api/v1/auth/refresh', '/api/v1/auth/login', '/api/v1/auth/signup', '/api/v1/auth/verify-email'];
const refreshes = (url: string) => {
  const path = new URL(url).pathname;
  return !OWN_CREDENTIALS.includes(path) && !path.startsWith('/api/v1/auth/password-reset/');
};

// The 401s that are about the session (api/problem.ts); the others (INVALID_CREDENTIALS, CAPTCHA_REQUIRED) are the call's answer.
const SESSION_CODES = new Set(['UNAUTHENTICATED', 'SESSION_EXPIRED']);
async function sessionLapsed(response: Response): Promise<boolean> {
  if (response.status !== 401) return false;
  const problem = (await response.clone().json().catch(() => null)) as { code?: unknown } | null;
  return SESSION_CODES.has(String(problem?.code));
}

/** Retries a call once after a refresh when the access token has lapsed; a second such 401 signs the user out. */
function retryAfterRefresh(): Middleware {
  // Sending a request reads its body, once: the retry is a copy taken before the first try went out.
  const unsent = new WeakMap<Request, Request>();
  return {
    onRequest({ request }) {
      unsent.set(request, request.clone());
      return request;
    },
    async onResponse({ request, response, options }) {
      const retry = unsent.get(request);
      unsent.delete(request);
      if (!retry || !refreshes(request.url) || !(await sessionLapsed(response))) return response;
      if (!(await authHooks.refresh())) {
        authHooks.signedOut();
        return response;
      }
      // The refresh turned the CSRF token too.
      const token = cookie(CSRF_COOKIE);
      if (!SAFE.has(retry.method) && token) retry.headers.set('x-csrf-token', token);
      // Called as a plain function: as a method of `options`, the browser's fetch throws "Illegal invocation".
      const send = options.fetch;
      const again = await send(retry);
      if (await sessionLapsed(again)) authHooks.signedOut();
      return again;
    },
  };
}

/** The typed API client: paths, parameters and bodies come from the contract (schema.d.ts). */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });
api.use(csrf, retryAfterRefresh());

/** A problem document's words for the user, with field errors when the request was refused. */
export function problemText(error: unknown): string {
  const problem = error as Partial<Problem> | undefined;
  if (!problem || typeof problem !== 'object') return 'Something went wrong. Please try again.';
  const fields = problem.errors?.map((e) => `${e.path}: ${e.message}`).join('; ');
  return [problem.title, problem.detail, fields].filter(Boolean).join(' ');
}

export function money(value: Money): string {
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency: value.currency }).format(Number(value.amount));
}

export const newKey = () => crypto.randomUUID();
