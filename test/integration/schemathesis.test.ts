import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn } from '../support/sign-in.js';
import { startStack, type Stack } from '../support/stack.js';

// The running API against its own OpenAPI document, by schemathesis (PyPI; dev/install.sh puts it in
// .tools/venv): every answer's status, media type and body must be ones the document gives for that
// operation, and none may be a 5xx (docs/api.md "Conventions": the document is the authority).
// How it generates is in test/support/schemathesis.toml: every boundary and invalid case the schema
// defines, then 5 generated cases an operation, about 1,500 requests in all.
const root = fileURLToPath(new URL('../..', import.meta.url));
const SCHEMATHESIS = join(root, '.tools/venv/bin/schemathesis');
const CONFIG = join(root, 'test/support/schemathesis.toml');
const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_schema_conformance'];
// Answers that reuse ids from earlier ones (schemathesis does) can end the caller's session: signing
// out the session GET /auth/sessions listed, changing the role of the admin GET /users/me named.
// They run last, by themselves, so that everything else runs signed in.
const SESSION_ENDING = ['POST /api/v1/auth/logout', 'DELETE /api/v1/users/me', 'DELETE /api/v1/auth/sessions/{id}', 'POST /api/v1/admin/users/{id}/role'];

interface Run {
  code: number;
  output: string;
  /** Test cases generated, from schemathesis's own report. */
  cases: number;
}

let workdir: string;
let stack: Stack;
beforeAll(async () => {
  // schemathesis runs here and writes its report here; removed afterwards.
  workdir = await mkdtemp(join(tmpdir(), 'tc-schemathesis-'));
  stack = await startStack();
}, 60_000);
afterAll(async () => {
  await stack?.stop();
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

/** One schemathesis run against the stack's API as `token`'s holder; `filter` picks the operations. */
async function schemathesis(name: string, token: string, filter: string[]): Promise<Run> {
  const report = join(workdir, `${name}.json`);
  const args = [
    '--config-file', CONFIG,
    'run', `${stack.apiUrl}/openapi.json`,
    '--checks', CHECKS.join(','),
    '--report', 'json', '--report-json-path', report,
    '--no-color',
    ...filter,
  ];
  const env = { ...process.env, TC_SCHEMATHESIS_TOKEN: token };
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(SCHEMATHESIS, args, { cwd: workdir, env, maxBuffer: 64 * 1024 * 1024, timeout: 150_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: `${stdout}${stderr}` });
    });
  });
  const summary = existsSync(report) ? (JSON.parse(await readFile(report, 'utf8')) as { test_cases?: { generated?: number } }) : {};
  return { code, output, cases: summary.test_cases?.generated ?? 0 };
}

describe('the API answers as its OpenAPI document says (schemathesis)', () => {
  it('has schemathesis installed', () => {
    expect(existsSync(SCHEMATHESIS), `${SCHEMATHESIS} is missing: run bash dev/install.sh`).toBe(true);
  });

  it('gives a signed-in operator only documented statuses, media types and bodies, and no 5xx', async () => {
    // An admin reaches every operation, the operators' too; to a traveller most of those are 404s.
    const { accessToken } = await signIn(stack, { role: 'admin' });
    const rest = await schemathesis('rest', accessToken, SESSION_ENDING.flatMap((name) => ['--exclude-name', name]));
    const ending = await schemathesis('session-ending', accessToken, SESSION_ENDING.flatMap((name) => ['--include-name', name]));
    process.stdout.write(`schemathesis: ${rest.cases + ending.cases} generated test cases (${rest.cases}, then ${ending.cases} for the operations that end the session)\n`);
    expect(rest.code, rest.output).toBe(0);
    expect(ending.code, ending.output).toBe(0);
    expect(rest.cases).toBeGreaterThan(500);
    expect(ending.cases).toBeGreaterThan(20);
  }, 300_000);
});
