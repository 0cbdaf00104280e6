import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The dependency rules of .dependency-cruiser.cjs, run as `npm run check:deps` runs them (part of npm run lint).
const root = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const FOLDERS = ['api', 'activities', 'domain', 'infra', 'workers', 'workflows', 'dev'];

interface Violation {
  rule: string;
  from: string;
  to: string;
}

/** Runs the check as lint does (its `err` report and exit code) and reads the violations it names. */
function checkDependencies(cwd: string, folders: readonly string[] = FOLDERS) {
  const result = spawnSync(process.execPath, [CLI, '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'err', ...folders], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  // "  error api-not-to-orm: api/routes/trips.ts → infra/db/entities.ts"; a cycle's path goes on over the next lines.
  const violations: Violation[] = [...result.stdout.matchAll(/^\s*(?:error|warn|info) ([\w-]+): (\S+) →[ ]?(\S*)$/gm)]
    .map(([, rule = '', from = '', to = '']) => ({ rule, from, to }));
  return { status: result.status, violations, report: `${result.stdout}${result.stderr}` };
}

/** A small tree laid out like ours, with one import that breaks each rule named in `broken`. */
function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tc-dependency-rules-'));
  const all: Record<string, string> = {
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const allowed = {
  'domain/money.ts': 'export const cents = (n: number) => n * 100;\n',
  'activities/trip.activities.ts': "import { cents } from '../domain/money.js';\nexport async function priceTrip() { return cents(1); }\n",
  'workflows/trip.workflow.ts': "import type { priceTrip } from '../activities/trip.activities.js';\nimport { cents } from '../domain/money.js';\nexport type Price = typeof priceTrip;\nexport const one = cents(1);\n",
  'infra/config.ts': 'export const config = { port: 3000 };\n',
  'infra/db/entities.ts': 'export interface IBooking { id: string }\n',
  'infra/db/trips.store.ts': "import type { IBooking } from './entities.js';\nexport const rows: IBooking[] = [];\n",
  'api/trips.service.ts': 'export interface TripView { id: string }\nexport const view = (id: string): TripView => ({ id });\n',
  'api/routes/trips.ts': "import { view } from '../trips.service.js';\nexport const answer = view('t1');\n",
  'api/server.ts': "import { rows } from '../infra/db/trips.store.js';\nexport const count = rows.length;\n",
  'workers/trip.worker.ts': "import { priceTrip } from '../activities/trip.activities.js';\nimport { rows } from '../infra/db/trips.store.js';\nexport const work = [priceTrip, rows];\n",
  'dev/sandbox.ts': "import { config } from '../infra/config.js';\nexport const port = config.port + 1;\n",
};

describe('dependency rules (npm run check:deps)', () => {
  it('pass on a tree that keeps them', () => {
    const result = checkDependencies(fixture(allowed));
    expect(result.violations).toEqual([]);
    expect(result.report).toMatch(/no dependency violations found \(11 modules, \d+ dependencies cruised\)/);
    expect(result.status).toBe(0);
  });

  it('fail on each rule broken on purpose, naming the rule and the import', () => {
    const result = checkDependencies(fixture({
      ...allowed,
      // A route reading an ORM entity instead of a view type from its service.
      'api/routes/trips.ts': "import type { IBooking } from '../../infra/db/entities.js';\nexport const ids = (b: IBooking) => b.id;\n",
      // A workflow calling an activity's implementation instead of proxying its type.
      'workflows/trip.workflow.ts': "import { priceTrip } from '../activities/trip.activities.js';\nexport const run = () => priceTrip();\n",
      // domain/ reading infrastructure.
      'domain/money.ts': "import { config } from '../infra/config.js';\nexport const cents = (n: number) => n * 100 + config.port * 0;\n",
      // An adapter importing a development fake, and one knowing the HTTP API.
      'infra/providers/flights.adapter.ts': "import { port } from '../../dev/sandbox.js';\nimport type { TripView } from '../../api/trips.service.js';\nexport const url = (t: TripView) => `http://127.0.0.1:${port}/${t.id}`;\n",
      // Two folders importing each other.
      'infra/audit/log.ts': "import type { IBooking } from '../db/entities.js';\nexport const audit = (b: IBooking) => b.id;\n",
      'infra/db/trips.store.ts': "import type { IBooking } from './entities.js';\nimport { audit } from '../audit/log.js';\nexport const rows: IBooking[] = [];\nexport const audited = rows.map(audit);\n",
      // A folder's shared module reaching into one of its subfolders.
      'infra/config.ts': "import type { IBooking } from './db/entities.js';\nexport const config = { port: 3000 };\nexport type Row = IBooking;\n",
    }));
    expect(result.status).not.toBe(0);
    const found = result.violations.map((v) => `${v.rule}: ${v.from} → ${v.to}`);
    expect(found).toEqual(expect.arrayContaining([
      'api-not-to-orm: api/routes/trips.ts → infra/db/entities.ts',
      'api-storage-through-ports: api/routes/trips.ts → infra/db/entities.ts',
      'workflows-import-activity-types-only: workflows/trip.workflow.ts → activities/trip.activities.ts',
      'domain-imports-nothing-of-ours: domain/money.ts → infra/config.ts',
      'production-not-to-dev: infra/providers/flights.adapter.ts → dev/sandbox.ts',
      'infra-not-to-api: infra/providers/flights.adapter.ts → api/trips.service.ts',
      'shared-modules-not-to-subfolders: infra/config.ts → infra/db/entities.ts',
    ]));
    expect(result.violations.filter((v) => v.rule === 'no-folder-cycles').map((v) => v.from).sort()).toEqual(['infra/audit', 'infra/db']);
    expect(result.report).toMatch(/x 9 dependency violations \(9 errors, 0 warnings\)/);
  });

  it('pass on this repository', () => {
    const result = checkDependencies(root);
    expect(result.violations.map((v) => `${v.rule}: ${v.from} → ${v.to}`)).toEqual([]);
    expect(result.status).toBe(0);
  });
});
