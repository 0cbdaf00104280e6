import { useEffect, useState } from 'preact/hooks';
import { api, authHooks, problemText, type components } from './api/client';
import { claimDraft, forgetDraft } from './draft';
import { here, navigate } from './router';

// What sign-in answers carry; GET /users/me has more, of which the app needs no more.
type Profile = Pick<components['schemas']['Profile'], 'id' | 'email' | 'name' | 'role'>;
interface SignedIn {
  user: Profile;
  accessTokenExpiresAt: string;
}

// Refresh this long before the access token lapses, so a request never meets an expired one.
const REFRESH_EARLY_MS = 60_000;
let user: Profile | null = null;
let known = false;
let timer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | undefined;
const listeners = new Set<() => void>();
const changed = () => listeners.forEach((listener) => listener());

function schedule(expiresAt: string) {
  clearTimeout(timer);
  const inMs = Date.parse(expiresAt) - Date.now() - REFRESH_EARLY_MS;
  timer = setTimeout(() => void refresh(), Math.max(5_000, inMs));
}

/** After signing in, verifying the address or a refresh: the user and when to refresh next. */
export function signedIn(result: SignedIn) {
  user = result.user;
  known = true;
  claimDraft(result.user.id);
  schedule(result.accessTokenExpiresAt);
  changed();
}

/** One refresh at a time however many calls met a 401; false when the session is over. */
export function refresh(): Promise<boolean> {
  refreshing ??= api
    .POST('/api/v1/auth/refresh', { body: { tokenDelivery: 'cookie' } })
    .then(({ data }) => {
      if (!data) return false;
      signedIn(data);
      return true;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = undefined;
    });
  return refreshing;
}

/**
 * The session is over. It lapsed: the user signs in again and comes back here, their draft kept.
 * The user ended it (logging out, deleting the account): the draft goes, passports and all.
 */
export function signedOut(how: 'lapsed' | 'ended') {
  clearTimeout(timer);
  user = null;
  known = true;
  if (how === 'ended') forgetDraft();
  changed();
  if (how === 'lapsed') navigate(`/login?next=${encodeURIComponent(here())}`);
}

authHooks.refresh = refresh;
// A session that ends mid-flow sends the user to sign in, and back here afterwards.
authHooks.signedOut = () => signedOut('lapsed');

/** Who is signed in (null: nobody; undefined: not known yet). */
export function useUser(): Profile | null | undefined {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((n) => n + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return known ? user : undefined;
}

/** At start-up: the session the cookies carry, if any (refreshed when its access token has lapsed). */
export async function restoreSession() {
  const quiet = authHooks.signedOut;
  authHooks.signedOut = () => {};
  try {
    const { data } = await api.GET('/api/v1/users/me');
    user = data ?? null;
    // Claimed here, not only by the refresh's signedIn: that refresh may fail and leave this user signed in.
    if (data) claimDraft(data.id);
    if (data) await refresh();
  } finally {
    authHooks.signedOut = quiet;
    known = true;
    changed();
  }
}

/** Ends the session at the API; what to tell the user when it could not (they stay signed in, to try again). */
export async function logOut(): Promise<string | undefined> {
  // First: whatever the logout call meets, the next person at this browser does not see the travellers.
  forgetDraft();
  const answer = await api.POST('/api/v1/auth/logout').catch(() => null);
  // A 401 after the refresh: no live session is left behind these cookies, and the API cleared them.
  if (!answer || (answer.error && answer.response.status !== 401)) {
    return `You are not logged out: ${answer ? problemText(answer.error) : 'the connection failed.'} Please try again.`;
  }
  signedOut('ended');
  navigate('/');
  return undefined;
}
