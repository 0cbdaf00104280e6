import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpOverHttp } from '../support/http-account.js';
import { randomClientIp } from '../support/http-client.js';
import { CARDS, fillTraveller, logIn, newPage, pay, searchAndChoose, startWebStack, statusOf } from '../support/web-client.js';

// The web client when things go wrong around it: people sharing a browser, answers lost on the way,
// tokens lapsing, a connection dropping while a booking is followed (SECURITY.md "2026-12-06: review of the web client and the production profile").
let web: Awaited<ReturnType<typeof startWebStack>>;

beforeAll(async () => {
  web = await startWebStack();
}, 120_000);

afterAll(async () => {
  await web?.stop();
});

/** A verified account, each from an address of its own (signups are limited per address). */
const newAccount = () => signUpOverHttp(web.stack.apiUrl, { headers: { 'x-forwarded-for': randomClientIp() } });

/**
 * A verified account (made over HTTP: these tests are not about signing up), signed in on a new page.
 * `clock`: the page's timers are Playwright's, which a test can move forward (time still passes).
 */
async function signedInPage(options: { clock?: boolean } = {}) {
  const account = await newAccount();
  const { context, page } = await newPage(web.browser);
  if (options.clock) await page.clock.install();
  await page.goto(`${web.stack.apiUrl}/login`);
  await logIn(page, account.email);
  await page.getByRole('link', { name: 'My bookings' }).waitFor();
  return { account, context, page };
}

async function bookingsOf(account: { auth: Record<string, string> }): Promise<string[]> {
  const response = await fetch(`${web.stack.apiUrl}/api/v1/bookings`, { headers: account.auth });
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: Array<{ bookingId: string }> }).items.map((item) => item.bookingId);
}

/** The session's cookies the browser still holds (the device cookie is not one). */
const sessionCookies = async (context: BrowserContext) =>
  (await context.cookies()).map((cookie) => cookie.name).filter((name) => /^__(Host|Secure)-tc_(access|refresh|csrf)$/.test(name)).sort();

/** Whom the header shows, once the app knows: 'Log in' (nobody) or 'Log out' (someone). */
async function whoIsShown(page: Page): Promise<string> {
  const either = page.getByRole('link', { name: 'Log in' }).or(page.getByRole('button', { name: 'Log out' }));
  await either.first().waitFor();
  return (await either.first().textContent()) ?? '';
}

/** What has the keyboard focus, as a screen reader would announce where it is. */
const focused = (page: Page) => page.evaluate(() => {
  const element = (globalThis as unknown as { document: { activeElement: { tagName: string; textContent: string | null } | null } }).document.activeElement;
  return element ? `${element.tagName.toLowerCase()}: ${element.textContent ?? ''}` : 'nothing';
});

describe('the web client, when things go wrong around it', () => {
  it('forgets the travellers at logout and when someone else signs in on the same browser', async () => {
    const { account, context, page } = await signedInPage();
    const other = await newAccount();
    await searchAndChoose(page);
    await fillTraveller(page);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('link', { name: 'Log in' }).click();
    await logIn(page, account.email);
    await page.getByRole('link', { name: 'My bookings' }).waitFor();
    await searchAndChoose(page);
    expect(await page.getByLabel('Passport number').inputValue(), 'the passport typed before the logout').toBe('');

    // A session that ends mid-flow keeps them for its own user (web-client.test.ts), not for another one.
    await fillTraveller(page);
    await context.clearCookies();
    await pay(page, CARDS.visa);
    await logIn(page, other.email);
    await page.getByText('Choose an offer first').waitFor();
    expect(await page.getByLabel('Passport number').count()).toBe(0);
    await context.close();
  });

  it('gives the draft to the user a reload finds signed in, even when that first refresh fails', async () => {
    const { context, page } = await signedInPage();
    const other = await newAccount();
    // The page is loaded again; its access token is good, but the refresh at start-up gets no answer.
    let failing = 1;
    await page.route('**/api/v1/auth/refresh', async (route) => {
      if (failing <= 0) return route.fallback();
      failing -= 1;
      await route.abort('internetdisconnected');
    });
    await page.reload();
    await page.getByRole('link', { name: 'My bookings' }).waitFor();
    expect(failing).toBe(0);
    await searchAndChoose(page);
    await fillTraveller(page);
    // The session ends mid-flow and someone else signs in on this browser.
    await context.clearCookies();
    await pay(page, CARDS.visa);
    await logIn(page, other.email);
    await page.getByRole('heading', { name: 'Travellers and payment' }).or(page.getByText('Choose an offer first')).first().waitFor();
    expect(await page.getByLabel('Passport number').count(), 'passport fields with the previous user\'s draft').toBe(0);
    await context.close();
  });

  it('pays again under the same Idempotency-Key when the answer to the first try was lost: one booking', async () => {
    const { account, context, page } = await signedInPage();
    await searchAndChoose(page);
    await fillTraveller(page);
    // The first POST /bookings reaches the API, which books; its answer never reaches the page.
    const keys: string[] = [];
    let lost!: () => void;
    const answerLost = new Promise<void>((resolve) => {
      lost = resolve;
    });
    await page.route('**/api/v1/bookings', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (keys.length > 1) return route.fallback();
      expect((await route.fetch()).status()).toBe(202);
      await route.abort('connectionreset');
      lost();
    });
    await pay(page, CARDS.visa);
    await answerLost;
    // The traveller sees the button again and pays again, as anyone would.
    await page.locator('button[type="submit"]:not([aria-disabled="true"])').waitFor();
    const told = await page.getByRole('alert').filter({ hasText: /answer/i }).count();
    await page.getByRole('button', { name: /^Pay / }).click();
    await statusOf(page, 'CONFIRMED');
    expect(await bookingsOf(account)).toHaveLength(1);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(told, 'the page says the answer was lost').toBe(1);
    await context.close();
  });

  it('keeps the key of a payment without an answer for its offer when the traveller changes something: no second booking', async () => {
    const { account, context, page } = await signedInPage();
    await searchAndChoose(page);
    await fillTraveller(page);
    const keys: string[] = [];
    await page.route('**/api/v1/bookings', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (keys.length > 1) return route.fallback();
      expect((await route.fetch()).status()).toBe(202);
      await route.abort('connectionreset');
    });
    await pay(page, CARDS.visa);
    await page.getByRole('alert').filter({ hasText: /answer/i }).waitFor();
    // Something changes before paying again: the request is not the one sent.
    await page.getByLabel('Notes (optional)').fill('A window seat, please');
    await page.getByRole('button', { name: /^Pay / }).click();
    await expect.poll(() => keys.length).toBe(2);
    expect(keys[1], 'the second payment\'s Idempotency-Key').toBe(keys[0]);
    // The API refuses another request under that key (422): the page says where to look instead.
    const told = page.getByRole('alert').filter({ hasText: /earlier payment may have gone through/i });
    await told.waitFor();
    await told.getByRole('link', { name: 'My bookings' }).waitFor();
    expect(await bookingsOf(account)).toHaveLength(1);
    await context.close();
  });

  it('ends a payment that never gets an answer as a lost answer, and pays again under the same key', async () => {
    const { account, context, page } = await signedInPage({ clock: true });
    await searchAndChoose(page);
    await fillTraveller(page);
    const keys: string[] = [];
    let held!: () => void;
    const holding = new Promise<void>((resolve) => {
      held = resolve;
    });
    await page.route('**/api/v1/bookings', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (keys.length > 1) return route.fallback();
      // The API books; its answer never comes.
      expect((await route.fetch()).status()).toBe(202);
      held();
    });
    await pay(page, CARDS.visa);
    await holding;
    await page.clock.fastForward(31_000);
    await page.getByRole('alert').filter({ hasText: /did not reach us/i }).waitFor();
    await page.getByRole('button', { name: /^Pay / }).click();
    await statusOf(page, 'CONFIRMED');
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(await bookingsOf(account)).toHaveLength(1);
    await context.close();
  });

  it('offers the bank\'s check again when it failed for a technical reason, without calling the payment refused', async () => {
    const { account, context, page } = await signedInPage();
    await searchAndChoose(page);
    await fillTraveller(page);
    // The traveller completes the check, but its call to Stripe never arrives.
    let failing = 1;
    await page.route('**/_authenticate*', async (route) => {
      if (failing <= 0) return route.fallback();
      failing -= 1;
      await route.abort('internetdisconnected');
    });
    await pay(page, CARDS.threeDSecure);
    const challenge = page.getByRole('dialog', { name: /3-D Secure/ });
    await challenge.getByRole('button', { name: 'Complete authentication' }).click();
    const again = page.getByRole('button', { name: 'Confirm with your bank' });
    await again.waitFor();
    expect(failing).toBe(0);
    expect(await page.getByText(/refused/i).count(), 'the page says the payment was refused').toBe(0);
    await again.click();
    await challenge.getByRole('button', { name: 'Complete authentication' }).click();
    await statusOf(page, 'CONFIRMED');
    expect(await bookingsOf(account)).toHaveLength(1);
    await context.close();
  });

  it('retries a state-changing call once its lapsed access token is refreshed', async () => {
    const { account, context, page } = await signedInPage();
    await searchAndChoose(page);
    await fillTraveller(page);
    // The access token's cookie lapses (its max-age is the token's lifetime); the refresh cookie is still there.
    await context.clearCookies({ name: '__Host-tc_access' });
    await pay(page, CARDS.visa);
    await statusOf(page, 'CONFIRMED');
    expect(await bookingsOf(account)).toHaveLength(1);
    await context.close();
  });

  it('keeps following a booking through failed polls, saying it is reconnecting', async () => {
    const { context, page } = await signedInPage();
    await searchAndChoose(page);
    await fillTraveller(page);
    let failing = 3;
    await page.route(/\/api\/v1\/bookings\/[0-9a-f-]{36}$/, async (route) => {
      if (failing <= 0) return route.fallback();
      failing -= 1;
      await route.abort('internetdisconnected');
    });
    await pay(page, CARDS.visa);
    await page.getByRole('status').filter({ hasText: /reconnecting/i }).waitFor();
    await statusOf(page, 'CONFIRMED');
    expect(failing).toBe(0);
    await expect.poll(() => page.getByRole('status').filter({ hasText: /reconnecting/i }).count()).toBe(0);
    await context.close();
  });

  it('lets the traveller cancel again after a cancellation without an answer, and stops following after a refused one', async () => {
    const { context, page } = await signedInPage();
    await searchAndChoose(page);
    await fillTraveller(page);
    await pay(page, CARDS.visa);
    await statusOf(page, 'CONFIRMED');
    const polls: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'GET' && /\/api\/v1\/bookings\/[0-9a-f-]{36}$/.test(new URL(request.url()).pathname)) polls.push(request.url());
    });
    let tries = 0;
    await page.route('**/api/v1/bookings/*/cancel', async (route) => {
      tries += 1;
      if (tries === 1) return route.abort('internetdisconnected');
      await route.fulfill({
        status: 409,
        contentType: 'application/problem+json',
        body: JSON.stringify({ type: 'about:blank', title: 'This booking cannot be cancelled now.', status: 409, code: 'BOOKING_NOT_CANCELLABLE', requestId: 'test' }),
      });
    });
    await page.getByRole('button', { name: 'Cancel booking…' }).click();
    await page.getByRole('button', { name: 'Yes, cancel' }).click();
    await page.getByRole('alert').filter({ hasText: /did not reach us/i }).waitFor();
    // Not stuck on "Cancelling…": the traveller can ask again.
    await page.getByRole('button', { name: 'Cancel booking…' }).click();
    await page.getByRole('button', { name: 'Yes, cancel' }).click();
    await page.getByRole('alert').filter({ hasText: 'cannot be cancelled now' }).waitFor();
    expect(tries).toBe(2);
    // Refused: the booking stays confirmed and is no longer followed.
    await page.waitForTimeout(1_500);
    const before = polls.length;
    await page.waitForTimeout(6_000);
    expect(polls.length - before, 'polls of a confirmed booking after a refused cancellation').toBe(0);
    await context.close();
  });

  it('logs out for good when the access token has lapsed: a reload does not sign the user back in', async () => {
    const { context, page } = await signedInPage();
    await context.clearCookies({ name: '__Host-tc_access' });
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('link', { name: 'Log in' }).waitFor();
    expect(await sessionCookies(context), 'the session cookies after logging out').toEqual([]);
    await page.reload();
    expect(await whoIsShown(page), 'after a reload').toBe('Log in');
    await context.close();
  });

  it('says so when logging out did not work, and stays signed in to try again', async () => {
    const { context, page } = await signedInPage();
    await page.route('**/api/v1/auth/logout', (route) => route.abort('internetdisconnected'));
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('alert').filter({ hasText: /not logged out/i }).waitFor();
    expect(await whoIsShown(page)).toBe('Log out');
    await page.unroute('**/api/v1/auth/logout');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('link', { name: 'Log in' }).waitFor();
    expect(await sessionCookies(context)).toEqual([]);
    await context.close();
  });

  it('refreshes a lapsed access token for the list of signed-in devices too', async () => {
    const { context, page } = await signedInPage();
    await context.clearCookies({ name: '__Host-tc_access' });
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByText('(this device)').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    await context.close();
  });

  it('shows a wrong password as such: a 401 that is not about the session is neither retried nor a sign-out', async () => {
    const { context, page } = await signedInPage();
    const deletes: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'DELETE' && new URL(request.url()).pathname === '/api/v1/users/me') deletes.push(request.url());
    });
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('button', { name: 'Delete my account…' }).click();
    await page.getByLabel('Your password').fill('not the password at all');
    await page.getByRole('button', { name: 'Delete my account', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid credentials' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/account');
    expect(deletes, 'DELETE /users/me sent with the wrong password').toHaveLength(1);
    await context.close();
  });

  it('lets go of the data export\'s download once the account page is left', async () => {
    const { context, page } = await signedInPage();
    // Which blob: URLs the page holds (made and not revoked), counted in the page.
    const live = () => page.evaluate(() => (globalThis as unknown as { liveBlobUrls: Set<string> }).liveBlobUrls.size);
    await page.evaluate(() => {
      type Urls = { createObjectURL(blob: unknown): string; revokeObjectURL(url: string): void };
      const inPage = globalThis as unknown as { URL: Urls; liveBlobUrls: Set<string> };
      const held = new Set<string>();
      const { createObjectURL, revokeObjectURL } = inPage.URL;
      inPage.liveBlobUrls = held;
      inPage.URL.createObjectURL = (blob) => {
        const url = createObjectURL.call(inPage.URL, blob);
        held.add(url);
        return url;
      };
      inPage.URL.revokeObjectURL = (url) => {
        held.delete(url);
        revokeObjectURL.call(inPage.URL, url);
      };
    });
    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('button', { name: 'Prepare my data export' }).click();
    await page.getByRole('link', { name: 'Download my data (JSON)' }).waitFor();
    expect(await live()).toBe(1);
    await page.getByRole('link', { name: 'Search', exact: true }).click();
    await page.getByRole('heading', { name: 'Search' }).waitFor();
    expect(await live(), 'blob: URLs still held after leaving the account page').toBe(0);
    await context.close();
  });

  it('keeps the keyboard on the Pay button while paying, and draws the card field\'s edge and focus', async () => {
    const { account, context, page } = await signedInPage();
    await searchAndChoose(page);
    await fillTraveller(page);
    type Styled = { borderTopStyle: string; outlineStyle: string };
    const style = (selector: string) =>
      page.locator(selector).first().evaluate((element) => {
        const { borderTopStyle, outlineStyle } = (globalThis as unknown as { getComputedStyle(e: unknown): Styled }).getComputedStyle(element);
        return { borderTopStyle, outlineStyle };
      });
    // Stripe's card element draws no edge of its own, nor a focus ring around itself.
    expect((await style('.StripeElement')).borderTopStyle, 'the card element\'s border').toBe('solid');
    await page.getByLabel('Card number').fill(CARDS.visa);
    expect((await style('.StripeElement')).outlineStyle, 'the card element\'s focus ring').toBe('solid');
    await page.getByLabel('Expiry (MM / YY)').fill('12 / 30');
    await page.getByLabel('CVC').fill('123');

    let posts = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route('**/api/v1/bookings', async (route) => {
      if (route.request().method() === 'POST') {
        posts += 1;
        await released;
      }
      return route.fallback();
    });
    await page.getByRole('button', { name: /^Pay / }).focus();
    await page.keyboard.press('Enter');
    const paying = page.getByRole('button', { name: 'Paying…' });
    await paying.waitFor();
    expect(await focused(page), 'the focus while paying').toBe('button: Paying…');
    expect(await paying.getAttribute('aria-disabled')).toBe('true');
    // Pressing it again while paying sends nothing more.
    await page.keyboard.press('Enter');
    release();
    await statusOf(page, 'CONFIRMED');
    expect(posts).toBe(1);
    expect(await bookingsOf(account)).toHaveLength(1);
    await context.close();
  });

  it('after logging in, goes to a path of this app only', async () => {
    const account = await newAccount();
    const { context, page } = await newPage(web.browser);
    // Each of these would leave the app's origin if taken as a URL: `\` is `/` to a browser, tabs are dropped.
    for (const next of ['//evil.example/x', '/\\evil.example/x', '/\t/evil.example/x', 'https://evil.example/x']) {
      await page.goto(`${web.stack.apiUrl}/login?next=${encodeURIComponent(next)}`);
      await logIn(page, account.email);
      await page.getByRole('heading', { name: 'Search' }).waitFor();
      expect(page.url(), next).toBe(`${web.stack.apiUrl}/`);
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('link', { name: 'Log in' }).waitFor();
    }
    await page.goto(`${web.stack.apiUrl}/login?next=${encodeURIComponent('/bookings?status=CONFIRMED')}`);
    await logIn(page, account.email);
    await page.getByRole('heading', { name: 'My bookings' }).waitFor();
    expect(page.url()).toBe(`${web.stack.apiUrl}/bookings?status=CONFIRMED`);
    await context.close();
  });

  it('moves the focus to the new page\'s heading when the page changes', async () => {
    const { context, page } = await signedInPage();
    await page.getByRole('link', { name: 'My bookings' }).click();
    await page.getByRole('heading', { name: 'My bookings' }).waitFor();
    await expect.poll(() => focused(page)).toBe('h1: My bookings');
    await searchAndChoose(page);
    await expect.poll(() => focused(page)).toBe('h1: Travellers and payment');
    // The browser's Back button is a change of page too.
    await page.goBack();
    await expect.poll(() => focused(page)).toBe('h1: Search');
    await context.close();
  });
});
