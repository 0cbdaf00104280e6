import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomInt, randomUUID } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { mailTo, TEST_PASSWORD } from './http-account.js';
import { startOwnStripeFake } from './own-stripe-fake.js';
import { startStack, type Stack } from './stack.js';

// The reference web client in a real browser (Debian's Chromium) against the whole stack: what the browser tests share.
const root = fileURLToPath(new URL('../..', import.meta.url));
// Phone-sized: every page is used the way most travellers see it.
export const PHONE = { width: 390, height: 844 };
export const CARDS = { threeDSecure: '4000002760003184', declined: '4000000000000002', visa: '4242424242424242' };

/** Something to do at a named point of a flow (the accessibility scan and screenshots of web-client.test.ts). */
export type Look = (page: Page, name: string) => Promise<void>;
const nothing: Look = async () => {};

/**
 * The web client built by its production config into a directory of its own, a Stripe fake of this
 * file's own, a stack serving both, and Chromium.
 */
export async function startWebStack() {
  const webRoot = mkdtempSync(join(tmpdir(), 'tc-web-'));
  const [fake] = await Promise.all([
    startOwnStripeFake(),
    build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'warn', build: { outDir: webRoot } }),
  ]);
  const stack = await startStack({ env: fake.env, webRoot });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    // Playwright gives every launch a fresh, empty user-data-dir of its own.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    webRoot,
    fake,
    stack,
    browser,
    async stop() {
      await browser.close();
      await stack.stop();
      await fake.stop();
      rmSync(webRoot, { recursive: true, force: true });
    },
  };
}

/** A fresh browser profile (no cookies, no memory) with one phone-sized page. */
export async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: PHONE });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

export const statusOf = (page: Page, status: string, timeout = 30_000) => page.locator(`[data-status="${status}"]`).waitFor({ timeout });

/** Sign up and confirm the address in the browser, through the dev outbox's link; signed in afterwards. */
export async function signUpAndVerify(stack: Stack, page: Page, look: Look = nothing) {
  const email = `traveller-${randomUUID()}@example.test`;
  await page.goto(`${stack.apiUrl}/signup`);
  await look(page, 'signup');
  await page.getByLabel('Your name').fill('Ada Lovelace');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText(`We sent a link to ${email}`).waitFor();
  // The link points at PUBLIC_APP_URL; this stack serves the same app on its own port.
  const link = new URL((await mailTo(stack.apiUrl, email, /confirm/i)).links[0]!);
  if (link.pathname !== '/verify-email') throw new Error(`the confirmation link points at ${link.pathname}`);
  await page.goto(`${stack.apiUrl}${link.pathname}${link.search}`);
  await look(page, 'verify-email');
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Confirm and log in' }).click();
  await page.getByRole('link', { name: 'My bookings' }).waitFor();
  return email;
}

/** On the login page (opened by the app or by the test): sign in with the test password. */
export async function logIn(page: Page, email: string) {
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** A departure day 30 to 329 days away, so that a file's bookings spread over the sandbox's seats instead of selling one flight out. */
const someDay = () => new Date(Date.now() + (30 + randomInt(300)) * 86_400_000).toISOString().slice(0, 10);

export async function searchAndChoose(page: Page, look: Look = nothing) {
  await page.getByRole('link', { name: 'Search', exact: true }).click();
  await page.getByLabel('Departure date').fill(someDay());
  await page.getByRole('button', { name: 'Search flights' }).click();
  await page.locator('.offers li').first().waitFor();
  await look(page, 'search-results');
  await page.locator('.offers li').first().getByRole('button', { name: /^Choose/ }).click();
  await page.getByRole('heading', { name: 'Travellers and payment' }).waitFor();
}

export async function fillTraveller(page: Page) {
  await page.getByLabel('Given name').fill('Ada');
  await page.getByLabel('Family name').fill('Lovelace');
  await page.getByLabel('Date of birth').fill('1985-12-10');
  await page.getByLabel('Passport number').fill('X1234567');
  await page.getByLabel('Passport country (2 letters)').fill('gb');
  await page.getByLabel('Nationality (2 letters)').fill('GB');
  await page.getByLabel('Phone').fill('+447700900123');
}

export async function pay(page: Page, card: string) {
  await page.getByLabel('Card number').fill(card);
  await page.getByLabel('Expiry (MM / YY)').fill('12 / 30');
  await page.getByLabel('CVC').fill('123');
  await page.getByRole('button', { name: /^Pay / }).click();
}
