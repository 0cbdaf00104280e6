import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TYPES_FILE, apiTypesOf } from '../../web/scripts/api-types.js';
import { TEST_PASSWORD } from '../support/http-account.js';
import { variantApp, type Stack } from '../support/stack.js';
import { productionEnv } from '../support/production-env.js';
import { loadConfig } from '../../infra/config.js';
import { CARDS, fillTraveller, newPage as newPhonePage, pay, searchAndChoose, signUpAndVerify, startWebStack, statusOf } from '../support/web-client.js';

// The reference web client in a real browser (Debian's Chromium) against the whole stack, as a traveller uses it.
const root = fileURLToPath(new URL('../..', import.meta.url));
const AXE = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');
// `SCREENSHOTS=1 npx vitest run test/e2e` refreshes docs/screenshots/; a normal run takes none.
const SCREENSHOTS = process.env.SCREENSHOTS === '1' ? join(root, 'docs', 'screenshots') : undefined;

let web: Awaited<ReturnType<typeof startWebStack>>;
let stack: Stack;
let webRoot: string;
const violations: string[] = [];
const cspReports: string[] = [];

beforeAll(async () => {
  web = await startWebStack();
  ({ stack, webRoot } = web);
  if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await web?.stop();
});

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const opened = await newPhonePage(web.browser);
  opened.page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspReports.push(message.text());
  });
  return opened;
}

/** axe-core in the page (evaluated, not injected: the app's CSP refuses inline scripts); serious and critical only. */
async function scan(page: Page, name: string) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    // Runs in the page (this file is type-checked without the DOM library): axe is what was just evaluated there.
    type Violation = { id: string; impact: string; nodes: Array<{ target: string[] }> };
    const inPage = globalThis as unknown as { axe: { run(context: unknown, options: object): Promise<{ violations: Violation[] }> }; document: unknown };
    const result = await inPage.axe.run(inPage.document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  violations.push(...found.map((v) => `${name}: ${v}`));
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

describe('the web client', () => {
  it('is built against the contract the API publishes', async () => {
    const document = await (await fetch(`${stack.apiUrl}/openapi.json`)).json();
    // UPDATE_API_TYPES=1 regenerates them from this stack, like `npm run web:types` from a running API.
    if (process.env.UPDATE_API_TYPES === '1') writeFileSync(API_TYPES_FILE, await apiTypesOf(document));
    // A contract change without regenerated types (and a client that still compiles) fails here.
    expect(await apiTypesOf(document), 'web/src/api/schema.d.ts is stale: run npm run web:types').toBe(readFileSync(API_TYPES_FILE, 'utf8'));
    const page = await fetch(`${stack.apiUrl}/bookings/${randomUUID()}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self' http:\/\/127\.0\.0\.1:\d+;/);
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect((await fetch(`${stack.apiUrl}/api/v1/nothing-here`)).headers.get('content-type')).toContain('application/problem+json');

    // Production serves the same pages, with Stripe's own Stripe.js and API in the policy and nothing else.
    const production = variantApp(stack, { config: loadConfig(productionEnv()), webRoot });
    const served = await production.request('/bookings');
    expect(served.status).toBe(200);
    const csp = served.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self' https://js.stripe.com https://*.js.stripe.com;");
    expect(csp).toContain("frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com;");
    expect(csp).toContain("connect-src 'self' https://api.stripe.com;");
    expect(csp).not.toMatch(/127\.0\.0\.1|unsafe/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(await served.text())?.[1];
    const script = await production.request(asset!);
    expect(script.headers.get('cache-control')).toContain('immutable');
    // The production build (web/vite.config.ts, as this file built it) publishes no source maps, and none is served.
    expect(readdirSync(join(webRoot, 'assets')).filter((name) => name.endsWith('.map'))).toEqual([]);
    expect(await script.text()).not.toContain('sourceMappingURL');
    expect((await production.request(`${asset!}.map`)).status).toBe(404);
    expect((await production.request('/assets/..%2F..%2Fpackage.json')).status).toBe(404);
  });

  // One traveller through every flow, as one person would use the app (signing up once keeps the test fast).
  let page: Page;
  let context: BrowserContext;
  let email: string;

  it('signs up, books with 3-D Secure, follows it to CONFIRMED, lists it, and cancels with the refund shown first', async () => {
    ({ context, page } = await newPage());
    email = await signUpAndVerify(stack, page, scan);
    await searchAndChoose(page, scan);
    await fillTraveller(page);
    // The contract's field rules, in the browser before anything is sent.
    await page.getByLabel('Phone').fill('07700 900123');
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.locator('#contact-phone-error', { hasText: 'E.164' }).waitFor();
    await page.getByLabel('Phone').fill('+447700900123');
    await scan(page, 'book');
    await pay(page, CARDS.threeDSecure);

    // The bank's challenge, in the browser, with the client secret the owner's booking view carries.
    const challenge = page.getByRole('dialog', { name: /3-D Secure/ });
    await challenge.waitFor();
    await challenge.getByRole('button', { name: 'Complete authentication' }).click();
    await statusOf(page, 'CONFIRMED');
    await page.getByRole('status').filter({ hasText: 'Confirmed' }).first().waitFor();
    await scan(page, 'booking-confirmed');
    const bookingUrl = page.url();

    await page.getByRole('link', { name: 'My bookings' }).first().click();
    await page.locator('.offers li').first().waitFor();
    await page.locator('.offers li').first().filter({ hasText: 'confirmed' }).waitFor();
    await scan(page, 'my-bookings');

    await page.goto(bookingUrl);
    await statusOf(page, 'CONFIRMED');
    await page.getByRole('button', { name: 'Cancel booking…' }).click();
    const offer = await page.getByRole('group', { name: 'Cancel this booking?' }).innerText();
    const refund = /Cancelling now refunds (\S+) of/.exec(offer)?.[1];
    expect(refund, offer).toBeDefined();
    await scan(page, 'cancel');
    await page.getByRole('button', { name: 'Yes, cancel' }).click();
    const nothing = /^\D*0[.,]00$/.test(refund!);
    await statusOf(page, nothing ? 'CANCELLED' : 'REFUNDED');
    await page.locator('.notice').filter({ hasText: nothing ? 'Nothing was refunded' : `Refunded: ${refund}` }).first().waitFor();
  });

  it('shows a declined card and pays again with another without asking for the travellers twice', async () => {
    const keys: string[] = [];
    const sent = (request: Request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/v1/bookings') keys.push(request.headers()['idempotency-key'] ?? '');
    };
    page.on('request', sent);
    await searchAndChoose(page);
    await fillTraveller(page);
    await pay(page, CARDS.declined);
    await statusOf(page, 'FAILED');
    await page.getByRole('alert').filter({ hasText: 'declined' }).first().waitFor();
    await scan(page, 'booking-declined');
    await page.getByRole('button', { name: 'Try another card' }).click();
    expect(await page.getByLabel('Given name').inputValue()).toBe('Ada');
    expect(await page.getByLabel('Passport number').inputValue()).toBe('X1234567');
    await pay(page, CARDS.visa);
    await statusOf(page, 'CONFIRMED');
    page.off('request', sent);
    // The declined payment was answered: paying again is a new payment, under a new Idempotency-Key.
    expect(keys).toHaveLength(2);
    expect(keys[1]).not.toBe(keys[0]);
  });

  it('ends a refused 3-D Secure challenge in a clear failure', async () => {
    await searchAndChoose(page);
    await fillTraveller(page);
    await pay(page, CARDS.threeDSecure);
    await page.getByRole('dialog', { name: /3-D Secure/ }).getByRole('button', { name: 'Fail authentication' }).click();
    await page.getByText('You did not confirm the payment with your bank').waitFor();
    await statusOf(page, 'FAILED', 20_000);
    await page.getByRole('alert').filter({ hasText: 'did not go through' }).first().waitFor();
  });

  it('sends a user whose session ended mid-flow to log in, and back to where they were', async () => {
    await searchAndChoose(page);
    await fillTraveller(page);
    await context.clearCookies();
    await pay(page, CARDS.visa);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/book');
    await scan(page, 'login');
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Travellers and payment' }).waitFor();
    expect(await page.getByLabel('Given name').inputValue()).toBe('Ada');
    await pay(page, CARDS.visa);
    await statusOf(page, 'CONFIRMED');

    // A provider that does not answer makes the list partial, and the page says so; hotels are searched the same way.
    await stack.setFaults({ errorRate: 1 });
    await page.goto(`${stack.apiUrl}/?kind=flights&origin=JFK&destination=LHR&departureDate=2027-02-02&adults=1&go=1`);
    await page.getByText(/Partial results: sandbox did not answer/).waitFor();
    await stack.setFaults({ errorRate: 0 });
    await page.getByRole('link', { name: 'Hotels' }).click();
    await page.getByRole('button', { name: 'Search hotels' }).click();
    await page.locator('.offers li').first().waitFor();
    await scan(page, 'hotel-results');

    await page.getByRole('link', { name: 'Account' }).click();
    await page.getByRole('heading', { name: 'Signed-in devices' }).waitFor();
    await page.getByRole('button', { name: 'Prepare my data export' }).click();
    await page.getByRole('link', { name: 'Download my data (JSON)' }).waitFor();
    await scan(page, 'account');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.goto(`${stack.apiUrl}/password-reset`);
    await scan(page, 'password-reset');
    await context.close();
  });

  it('has no serious or critical accessibility violations, and nothing refused by the CSP', () => {
    expect(violations).toEqual([]);
    expect(cspReports).toEqual([]);
  });
});
