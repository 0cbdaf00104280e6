import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';

/**
 * Citations of documents in comments and markdown: `docs/api.md "Bookings"`, `SECURITY.md §12`,
 * `SECURITY.md §1–6`, `README.md, Layout`, `[text](docs/api.md#search)`. Each must name a file of
 * the repository (from the repository's root or the citing file's folder, case and all) and, when
 * it names a section, a heading or a numbered item that file has.
 */

export interface Document {
  /** Heading texts, as written. */
  headings: string[];
  /** The numbers of its numbered items (`12. …` at the start of a line). */
  numbers: Set<number>;
}

export interface CitationProblem {
  file: string;
  line: number;
  citation: string;
  problem: string;
}

const FENCE = /^\s*(```|~~~)/;

/** The headings and numbered items of a markdown text, code blocks left out. */
export function readDocument(markdown: string): Document {
  const headings: string[] = [];
  const numbers = new Set<number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (FENCE.test(line)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (heading) headings.push(heading[1]!);
    const item = /^(\d+)\.\s/.exec(line);
    if (item) numbers.add(Number(item[1]));
  }
  return { headings, numbers };
}

/** GitHub's anchor for a heading: lower case, punctuation gone, spaces as hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const normalize = (text: string) => text.toLowerCase().replace(/\s+/g, ' ').trim();

/** A section named by (the start of) its heading: "Outside review" names "Outside review, turn 2 (2026-12-06)". */
function hasHeading(document: Document, name: string): boolean {
  const wanted = normalize(name);
  return document.headings.some((heading) => {
    const have = normalize(heading);
    return have === wanted || (have.startsWith(wanted) && /^[\s,(:]/.test(have.slice(wanted.length)));
  });
}

// A path ending in .md, not part of a URL or a glob; `README.md's` and `README.md).` end at the `d`.
const DOCUMENT = /(?<![\w/.*:@-])((?:\.{1,2}\/|[\w.-]+\/)*[\w.-]*[A-Za-z0-9_]\.md)(?![\w-])(#[\w-]+)?/g;
const NUMBERS = /^\s*,?\s*(§\s*)?(\d+(?:\s*[–-]\s*\d+)?(?:\s*(?:,|and|&)\s*§?\s*\d+(?:\s*[–-]\s*\d+)?)*)/;
const QUOTED = /^\s*,?\s*["“]([^"”\n]+)["”]/;
// `README.md, Layout`: a comma and a capitalised phrase up to the next punctuation.
const AFTER_COMMA = /^,\s+([A-Z][^,;:.()"`\n]*?)\s*(?=[,;:.()"`\n]|$)/;
const SECTION_SIGN = /§\s*(\d+(?:\s*[–-]\s*\d+)?)/g;

function expand(list: string): number[] {
  const numbers: number[] = [];
  for (const part of list.split(/\s*(?:,|and|&)\s*/)) {
    const [from, to] = part.replace(/§\s*/g, '').split(/\s*[–-]\s*/).map(Number);
    if (from === undefined || Number.isNaN(from)) continue;
    const last = to === undefined || Number.isNaN(to) ? from : to;
    // A backwards range names both its ends: each must exist, and the citation reads wrong anyway.
    if (last < from) numbers.push(from, last);
    for (let n = from; n <= last && n - from <= 200; n++) numbers.push(n);
  }
  return numbers;
}

/**
 * The citation problems in one file's text. `documents` maps each markdown file of the
 * repository (its path from the root) to what it holds.
 */
export function checkText(file: string, text: string, documents: ReadonlyMap<string, Document>): CitationProblem[] {
  const problems: CitationProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const report = (citation: string, problem: string) => problems.push({ file, line: index + 1, citation, problem });
    const cited: { path: string; document: Document | undefined; at: number }[] = [];
    for (const match of line.matchAll(DOCUMENT)) {
      const [whole, target, anchor] = match as unknown as [string, string, string | undefined];
      const path = resolve(file, target, documents);
      if (!path) {
        report(whole, `no file ${target} in the repository`);
        cited.push({ path: target, document: undefined, at: match.index });
        continue;
      }
      const document = documents.get(path)!;
      const end = match.index + whole.length;
      cited.push({ path, document, at: match.index });
      if (anchor && !document.headings.some((heading) => `#${anchorOf(heading)}` === anchor)) {
        report(whole, `${path} has no heading whose anchor is ${anchor}`);
      }
      const rest = line.slice(end);
      const numbered = NUMBERS.exec(rest);
      const quoted = QUOTED.exec(rest);
      const named = AFTER_COMMA.exec(rest);
      if (numbered) {
        for (const n of expand(numbered[2]!)) {
          if (!document.numbers.has(n)) report(`${whole}${numbered[0]}`, `${path} has no numbered section ${n}`);
        }
      } else if (quoted) {
        if (!hasHeading(document, quoted[1]!)) report(`${whole}${quoted[0]}`, `${path} has no section "${quoted[1]}"`);
      } else if (named && !DOCUMENT_ON_LINE.test(named[1]!)) {
        if (!hasHeading(document, named[1]!)) report(`${whole}${named[0]}`, `${path} has no section "${named[1]}"`);
      }
    }
    // "SECURITY.md §27 (what the audit holds) and §29": a later § cites the document named before it.
    for (const sign of line.matchAll(SECTION_SIGN)) {
      const owner = cited.filter((citation) => citation.at < sign.index).at(-1);
      if (!owner?.document) continue;
      for (const n of expand(sign[1]!)) {
        if (!owner.document.numbers.has(n)) report(sign[0], `${owner.path} has no numbered section ${n}`);
      }
    }
  });
  return dedupe(problems);
}

const DOCUMENT_ON_LINE = new RegExp(DOCUMENT.source);

function dedupe(problems: CitationProblem[]): CitationProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.file}:${p.line}:${p.problem}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The cited file's path from the root: beside the citing file, or from the root; never outside it. */
function resolve(file: string, target: string, documents: ReadonlyMap<string, Document>): string | undefined {
  for (const base of [posix.dirname(file), '.']) {
    const path = posix.normalize(posix.join(base, target));
    if (!path.startsWith('../') && documents.has(path)) return path;
  }
  return undefined;
}

/** What the tree scan reads: source, scripts, configuration and markdown. */
const SCANNED = /\.(ts|tsx|js|mjs|cjs|sh|py|md|ya?ml|toml|html|css)$|(^|\/)(Dockerfile|run)$/;
// Installed, generated or local state; `.ci` is the one hidden folder of ours.
const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', 'coverage']);

/** Every scanned file under `root`, as a path from it. */
export function listFiles(root: string, folder = ''): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(posix.join(root, folder), { withFileTypes: true })) {
    const path = folder ? `${folder}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (SKIPPED_DIRECTORIES.has(entry.name) || (entry.name.startsWith('.') && entry.name !== '.ci')) continue;
      files.push(...listFiles(root, path));
    } else if (entry.isFile() && SCANNED.test(path)) {
      files.push(path);
    }
  }
  return files;
}

/** The citation problems of the whole tree under `root`, leaving out `ignore` (paths from the root). */
export function checkTree(root: string, ignore: readonly string[] = []): CitationProblem[] {
  const files = listFiles(root).filter((file) => !ignore.includes(file));
  const read = (file: string) => readFileSync(posix.join(root, file), 'utf8');
  const documents = new Map(listFiles(root).filter((file) => file.endsWith('.md')).map((file) => [file, readDocument(read(file))]));
  return files.flatMap((file) => checkText(file, read(file), documents));
}
