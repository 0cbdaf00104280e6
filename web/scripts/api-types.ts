import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';

/** Where the web client's generated contract types live (committed: a contract change shows up as a diff and a type error). */
export const API_TYPES_FILE = fileURLToPath(new URL('../src/api/schema.d.ts', import.meta.url));

const HEADER = '// Generated from the API\'s /openapi.json by `npm run web:types`; do not edit.\n';

/** The TypeScript types of an OpenAPI document, as openapi-fetch reads them. */
export async function apiTypesOf(document: unknown): Promise<string> {
  return HEADER + astToString(await openapiTS(document as OpenAPI3, { alphabetize: true }));
}

// npm run web:types [-- http://127.0.0.1:3000]: from a running API (npm run up).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const base = process.argv[2] ?? process.env.API_URL ?? 'http://127.0.0.1:3000';
  const response = await fetch(new URL('/openapi.json', base));
  if (!response.ok) throw new Error(`GET ${base}/openapi.json answered ${response.status}`);
  writeFileSync(API_TYPES_FILE, await apiTypesOf(await response.json()));
  process.stdout.write(`wrote ${API_TYPES_FILE}\n`);
}
