// @ts-check
/**
 * The architecture as rules (README.md "Layout"), checked by `npm run lint` (npm run check:deps).
 * Production code is api/, workers/, activities/, workflows/, domain/ and infra/; dev/ is what runs
 * the product without the outside world. Tests (*.test.ts, test/) and benchmarks (bench/) compose
 * production and development code as they need and are not cruised.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-imports-nothing-of-ours',
      comment: 'domain/ is pure types, schemas and rules: it imports no other folder of ours.',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: '^(api|activities|workflows|workers|infra|dev|test|bench|deploy|web)/' },
    },
    {
      name: 'workflows-import-domain-only',
      comment: 'Workflows are deterministic: besides their own files they import domain/ and, as types only, activities/.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^(api|infra|workers|dev|test|bench|deploy|web)/' },
    },
    {
      name: 'workflows-import-activity-types-only',
      comment: 'Workflows proxy activities by their types (import type); the implementations run in the worker.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'api-not-to-orm',
      comment: "The API never touches the ORM or its entities: services take API-side ports and return plain view types; infra/db implements the ports.",
      severity: 'error',
      from: { path: '^api/' },
      to: { path: ['^infra/db/entities\\.ts$', '(^|/)node_modules/@mikro-orm/'] },
    },
    {
      name: 'api-storage-through-ports',
      comment:
        "Only the API's composition builds infra/db's adapters (server.ts, app.ts, and auth.components.ts, which builds the " +
        'session store and the other auth adapters from config); every other API module reaches storage through a port.',
      severity: 'error',
      from: { path: '^api/', pathNot: '^api/(server|app|auth\\.components)\\.ts$' },
      to: { path: '^infra/db/' },
    },
    {
      name: 'infra-not-to-api',
      comment: 'Adapters do not know the HTTP API: infra/ implements ports structurally and never imports api/.',
      severity: 'error',
      from: { path: '^infra/' },
      to: { path: '^api/' },
    },
    {
      name: 'production-not-to-dev',
      comment:
        'dev/ is never shipped or imported by production code. The boundary is the process: dev/up.ts and dev/services.ts ' +
        'start the production entry points (api/server.ts, workers/booking.worker.ts) as child processes with the development ' +
        'configuration (dev/config.ts extends infra/config.ts), so only dev/, tests and benchmarks import dev/.',
      severity: 'error',
      from: { path: '^(api|activities|domain|infra|workers|workflows)/' },
      to: { path: '^dev/' },
    },
    {
      name: 'no-folder-cycles',
      comment: 'Two folders never import each other: one of them owns the shared piece.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^(api|activities|domain|infra|workers|workflows|dev)/' },
      to: { circular: true },
    },
    {
      name: 'shared-modules-not-to-subfolders',
      comment:
        "A folder's own modules (infra/config.ts, api/problem.ts, dev/process.ts…) are what its subfolders build on, so they " +
        'import none of those subfolders; only the composition (api/server.ts, api/app.ts, dev/up.ts) wires them together. ' +
        'Together with no-folder-cycles this leaves no cycle between a folder and its subfolders, which the folder scope does not see.',
      severity: 'error',
      from: { path: '^(api|infra|dev)/[^/]+$', pathNot: '^(api/server|api/app|dev/up)\\.ts$' },
      to: { path: '^$1/[^/]+/' },
    },
    {
      name: 'composition-imported-by-no-one',
      comment: 'The composition roots wire everything; nothing in production imports them back (api/server.ts composes api/app.ts).',
      severity: 'error',
      from: { path: '^(api|activities|domain|infra|workers|workflows|dev)/', pathNot: '^api/server\\.ts$' },
      to: { path: '^(api/server|api/app|dev/up)\\.ts$' },
    },
    {
      name: 'api-middleware-not-to-services',
      comment: 'Middleware states the port it needs (authenticate: Authenticator) instead of importing an API service.',
      severity: 'error',
      from: { path: '^api/middleware/' },
      to: { path: '^api/[^/]+\\.service\\.ts$' },
    },
    {
      name: 'no-module-cycles',
      comment: 'No module imports itself through others.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    exclude: { path: ['\\.test\\.ts$', '^test/', '^bench/', '(^|/)fixtures/'] },
    // Type-only imports are dependencies too (and the workflow rule tells them apart).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
