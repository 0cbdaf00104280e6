import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anchorOf, checkText, checkTree, readDocument } from './citations.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SELF = 'test/docs/citations.test.ts';

// A small repository: a numbered document and a document with headings.
const documents = new Map([
  ['SECURITY.md', readDocument('# Policy\n## Requirements\n### Input\n1. one\n2. two\n3. three\n12. twelve\n```\n13. in a code block\n```\n')],
  ['docs/api.md', readDocument('# API\n## Bookings\n### Paying: what a client needs (cards never touch this API)\n## Outside review, turn 2 (2026-12-06)\n')],
]);
const problemsOf = (text: string, file = 'api/routes/x.ts') => checkText(file, text, documents).map((p) => p.problem);

describe('citations of documents', () => {
  it('passes citations of files, headings and numbered sections that exist', () => {
    expect(
      problemsOf(
        [
          '// SECURITY.md §12: the trusted proxies',
          "describe('limits (SECURITY.md §1–3)', () => {",
          ' * the per-account lock (SECURITY.md §1, §2 and 12): progressive',
          '// SECURITY.md §1 (what the audit holds) and §2 (what no log line holds)',
          '/** docs/api.md "Bookings": passports masked. */',
          '/** docs/api.md "Paying: what a client needs"; public. */',
          '// docs/api.md, Bookings: the table',
          '// see [the contract](docs/api.md#bookings) and https://example.com/nowhere.md',
          '// docs/api.md "Outside review": a heading named by its start',
          "// docs/api.md's own example",
          '// *.md files are scanned',
        ].join('\n'),
      ),
    ).toEqual([]);
  });

  it('resolves a path from the citing file\'s folder or the root, never outside the repository', () => {
    expect(problemsOf('see ../SECURITY.md §1', 'docs/x.md')).toEqual([]);
    expect(problemsOf('see ../../shared/design/api.md', 'docs/x.md')).toEqual(['no file ../../shared/design/api.md in the repository']);
  });

  it('fails on a missing file, a missing numbered section and a missing heading', () => {
    expect(problemsOf('// security.md 12: the old, out-of-repository name')).toEqual(['no file security.md in the repository']);
    expect(problemsOf('// api.md "Bookings": a bare name that is not at the root')).toEqual(['no file api.md in the repository']);
    expect(problemsOf('// SECURITY.md §39: past the last requirement')).toEqual(['SECURITY.md has no numbered section 39']);
    expect(problemsOf('// SECURITY.md 13: only in a code block')).toEqual(['SECURITY.md has no numbered section 13']);
    expect(problemsOf("describe('x (SECURITY.md §2–4)', () => {")).toEqual(['SECURITY.md has no numbered section 4']);
    expect(problemsOf('// SECURITY.md §1 (audit) and §40 (logs)')).toEqual(['SECURITY.md has no numbered section 40']);
    expect(problemsOf('/** docs/api.md "operators": admin only */')).toEqual(['docs/api.md has no section "operators"']);
    expect(problemsOf('// docs/api.md, Users: the profile')).toEqual(['docs/api.md has no section "Users"']);
    expect(problemsOf('[the contract](docs/api.md#users)')).toEqual(['docs/api.md has no heading whose anchor is #users']);
  });

  it('reports where: the file and the line', () => {
    expect(checkText('infra/x.ts', 'ok\n// SECURITY.md §99', documents)).toEqual([
      { file: 'infra/x.ts', line: 2, citation: 'SECURITY.md §99', problem: 'SECURITY.md has no numbered section 99' },
    ]);
  });

  it('reads anchors as GitHub writes them', () => {
    expect(anchorOf('Paying: what a client needs (cards never touch this API)')).toBe('paying-what-a-client-needs-cards-never-touch-this-api');
  });

  it('finds no citation in the repository that names a missing document or section', () => {
    // This file's fixtures are wrong on purpose.
    const problems = checkTree(root, [SELF]).map((p) => `${p.file}:${p.line}: ${p.citation} (${p.problem})`);
    expect(problems).toEqual([]);
  });
});
