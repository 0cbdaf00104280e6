import { randomUUID } from 'node:crypto';
import { eventually } from './eventually.js';

export const TEST_PASSWORD = 'correct horse battery staple 42';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  links: string[];
}

/** The newest message the development sink holds for an address whose subject matches. */
export async function mailTo(baseUrl: string, email: string, subject: RegExp, timeoutMs = 20_000): Promise<Mail> {
  const { messages } = await eventually(
    async () => (await (await fetch(`${baseUrl}/api/v1/dev/outbox?to=${encodeURIComponent(email)}`)).json()) as { messages: Mail[] },
    ({ messages }) => messages.some((m) => subject.test(m.subject)),
    { timeoutMs, what: `mail "${subject.source}" to ${email}` },
  );
  return messages.find((m) => subject.test(m.subject))!;
}

/** The `token` query parameter of a mailed link. */
export function tokenIn(mail: Mail): string {
  const token = new URL(mail.links[0]!).searchParams.get('token');
  if (!token) throw new Error(`no token in the link of "${mail.subject}"`);
  return token;
}

/**
 * An account made the way a client makes one: sign up, read the verification mail from the
 * development sink, verify, and keep the tokens a mobile client gets.
 */
export async function signUpOverHttp(baseUrl: string, options: { email?: string; password?: string; headers?: Record<string, string> } = {}) {
  const email = options.email ?? `traveller-${randomUUID()}@example.test`;
  const password = options.password ?? TEST_PASSWORD;
  const headers = { 'content-type': 'application/json', ...options.headers };
  const signup = await fetch(`${baseUrl}/api/v1/auth/signup`, {
    method: 'POST', headers, body: JSON.stringify({ email, password, name: 'Ada Lovelace' }),
  });
  if (signup.status !== 202) throw new Error(`signup answered ${signup.status}: ${await signup.text()}`);
  const token = tokenIn(await mailTo(baseUrl, email, /confirm/i));
  const verified = await fetch(`${baseUrl}/api/v1/auth/verify-email`, {
    method: 'POST', headers, body: JSON.stringify({ token, password, tokenDelivery: 'body' }),
  });
  if (verified.status !== 200) throw new Error(`verify-email answered ${verified.status}: ${await verified.text()}`);
  const body = (await verified.json()) as { user: { id: string }; accessToken: string; refreshToken: string; csrfToken: string };
  return { email, password, userId: body.user.id, accessToken: body.accessToken, refreshToken: body.refreshToken, auth: { authorization: `Bearer ${body.accessToken}` } };
}
