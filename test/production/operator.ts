import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { run, type RunResult } from '../../dev/process.js';
import { TEST_PASSWORD, tokenIn } from '../support/http-account.js';
import { PRODUCTION_NAMESPACE, type ProductionStack } from './production-stack.js';

/**
 * An operator's access token, made as the README says: an account signed up like any other, made
 * admin in psql by the owner (`update users set role = 'admin' …`), then signed in with its password.
 */
export async function operatorToken(s: ProductionStack): Promise<string> {
  const api = s.apiUrls[0]!;
  const email = `operator-${randomUUID()}@example.test`;
  const headers = { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.10' };
  const signup = await fetch(`${api}/api/v1/auth/signup`, { method: 'POST', headers, body: JSON.stringify({ email, password: TEST_PASSWORD, name: 'Grace Hopper' }) });
  if (signup.status !== 202) throw new Error(`operator signup answered ${signup.status}`);
  const token = tokenIn(await s.smtp.mailTo(email, /confirm/i));
  const verified = await fetch(`${api}/api/v1/auth/verify-email`, { method: 'POST', headers, body: JSON.stringify({ token, password: TEST_PASSWORD, tokenDelivery: 'body' }) });
  if (verified.status !== 200) throw new Error(`operator verify-email answered ${verified.status}`);
  await s.observer.owner.em.getConnection().execute("update users set role = 'admin' where email = ?", [email]);
  const login = await fetch(`${api}/api/v1/auth/login`, { method: 'POST', headers, body: JSON.stringify({ email, password: TEST_PASSWORD, tokenDelivery: 'body' }) });
  if (login.status !== 200) throw new Error(`operator login answered ${login.status}: ${await login.text()}`);
  return ((await login.json()) as { accessToken: string }).accessToken;
}

/** The Temporal CLI (.tools/bin/temporal) against the cluster over mTLS with the operator's certificate. */
export async function temporalCli(root: string, s: ProductionStack) {
  const operator = await s.cluster.issueClient('operator');
  return (args: string[], options: { clientCert?: boolean } = {}): Promise<RunResult> =>
    run(join(root, '.tools', 'bin', 'temporal'), [
      ...args,
      '--namespace', PRODUCTION_NAMESPACE, '--address', s.cluster.address,
      '--tls-ca-path', s.cluster.caFile, '--tls-server-name', s.cluster.serverName,
      ...(options.clientCert === false ? ['--tls'] : ['--tls-cert-path', operator.certFile, '--tls-key-path', operator.keyFile]),
    ], { timeoutMs: 60_000 });
}
