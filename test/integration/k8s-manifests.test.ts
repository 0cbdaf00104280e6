import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, type Document } from 'yaml';
import { checkManifests, KUBERNETES_VERSION, loadManifests } from '../../deploy/check-manifests.js';
import { loadConfig } from '../../infra/config.js';
import { SECRET_VARIABLES } from '../../infra/secrets.js';

// deploy/k8s checked offline as CI checks it (npm run lint runs npm run check:manifests): the real
// manifests pass; each planted mistake, in a copy, fails with a line naming it and nothing else.

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifests = join(root, 'deploy/k8s');
const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** A copy of deploy/k8s. */
function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tc-k8s-'));
  copies.push(dir);
  cpSync(manifests, dir, { recursive: true });
  return dir;
}

/** A copy of deploy/k8s with `file`'s documents changed by `change` (one per document, in order). */
function plant(file: string, change: (documents: Document[]) => void): string {
  const dir = copy();
  const documents = parseAllDocuments(readFileSync(join(dir, file), 'utf8')) as Document[];
  change(documents);
  // A document after the first keeps its own `---` when it had one; the others get one.
  const texts = documents.map((document, index) => {
    const text = document.toString();
    return index === 0 || text.startsWith('---') ? text : `---\n${text}`;
  });
  writeFileSync(join(dir, file), texts.join(''));
  return dir;
}

const container = (index = 0) => ['spec', 'template', 'spec', 'containers', index];
const api = (documents: Document[]) => documents[0]!; // api.yaml: the Deployment, then the Service
const worker = (documents: Document[]) => documents[0]!;

/** A value production accepts for each secret (its own, TLS where a URL is), as the mounted Secret would hold. */
function productionSecret(name: string): string {
  const random = randomBytes(24).toString('base64url');
  const values: Record<string, string> = {
    DATABASE_URL: `postgresql://travelconnect_app:${random}@db.internal.example:5432/travelconnect?sslmode=verify-full`,
    MIGRATION_DATABASE_URL: `postgresql://travelconnect:${random}@db.internal.example:5432/travelconnect?sslmode=verify-full`,
    REDIS_URL: `rediss://travelconnect:${random}@redis.internal.example:6380/0`,
    SMTP_URL: `smtps://travelconnect:${random}@smtp.example:465`,
    JWT_SIGNING_KEYS: `prod-1:${randomBytes(32).toString('base64url')}`,
    STRIPE_SECRET_KEY: `sk_live_${random}`,
    STRIPE_WEBHOOK_SECRET: `whsec_${random}`,
  };
  return values[name] ?? `${random}${random}`;
}

/**
 * The environment a container of `file`'s first document gets (its ConfigMap and env), every file it
 * names written under `dir` where the container would see it mounted: secrets with production values,
 * the rest (CAs, the Temporal client certificate) as PEM.
 */
function containerEnvironment(dir: string, file: string, configMap?: Record<string, string>): NodeJS.ProcessEnv {
  const spec = loadManifests(dir).manifests.find((m) => m.file.endsWith(`/${file}`))!.body.spec as {
    template: { spec: { containers: { env?: { name: string; value: string }[] }[] } };
  };
  const env: Record<string, string> = { ...configMap };
  for (const { name, value } of spec.template.spec.containers[0]!.env ?? []) env[name] = value;
  for (const [name, value] of Object.entries(env)) {
    if (!name.endsWith('_FILE')) continue;
    const path = join(dir, 'mounted', value);
    mkdirSync(dirname(path), { recursive: true });
    const secret = name.slice(0, -'_FILE'.length);
    writeFileSync(path, (SECRET_VARIABLES as readonly string[]).includes(secret) ? productionSecret(secret) : '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    env[name] = path;
  }
  return env;
}

const configMapOf = (dir: string) => loadManifests(dir).manifests.find((m) => m.kind === 'ConfigMap')!.body.data as Record<string, string>;

describe('deploy/k8s/config.yaml', () => {
  it('is a configuration production accepts, with the secrets its _FILE variables name; the job\'s is the migration\'s', () => {
    expect(() => loadConfig(containerEnvironment(copy(), 'api.yaml', configMapOf(manifests)))).not.toThrow();
    expect(() => loadConfig(containerEnvironment(copy(), 'migrate-job.yaml'), {}, 'migration')).not.toThrow();
    // It can fail: without the publishable key, or with a secret's file not named, production refuses it.
    const withoutKey = plant('config.yaml', (documents) => documents[0]!.deleteIn(['data', 'STRIPE_PUBLISHABLE_KEY']));
    expect(() => loadConfig(containerEnvironment(withoutKey, 'api.yaml', configMapOf(withoutKey)))).toThrow(/STRIPE_PUBLISHABLE_KEY: required in production/);
    const withoutToken = plant('config.yaml', (documents) => documents[0]!.deleteIn(['data', 'METRICS_TOKEN_FILE']));
    expect(() => loadConfig(containerEnvironment(withoutToken, 'worker.yaml', configMapOf(withoutToken)))).toThrow(/METRICS_TOKEN: production needs its own secret \(missing/);
  });
});

describe('npm run check:manifests', () => {
  it(`passes the real manifests against the Kubernetes ${KUBERNETES_VERSION} schemas and our rules`, () => {
    const result = checkManifests(manifests);
    expect(result.problems).toEqual([]);
    expect(result.resources).toBeGreaterThanOrEqual(15);
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'deploy/check-manifests.ts'], { cwd: root, encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`pass the Kubernetes ${KUBERNETES_VERSION} schemas and the deployment rules`);
  });

  it('fails an API without a readiness probe, or without a liveness probe', () => {
    const noReadiness = plant('api.yaml', (documents) => api(documents).deleteIn([...container(), 'readinessProbe']));
    expect(checkManifests(noReadiness).problems).toEqual([
      `${noReadiness}/api.yaml: Deployment/travelconnect-api, container api: no readinessProbe (a Service sends it traffic)`,
    ]);
    const noLiveness = plant('api.yaml', (documents) => api(documents).deleteIn([...container(), 'livenessProbe']));
    expect(checkManifests(noLiveness).problems).toEqual([
      `${noLiveness}/api.yaml: Deployment/travelconnect-api, container api: no livenessProbe (a Service sends it traffic)`,
    ]);
    // The CLI that npm run lint runs exits 1 on it, with the same line.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'deploy/check-manifests.ts', noLiveness], { cwd: root, encoding: 'utf8' });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('container api: no livenessProbe');
  });

  it('fails a secret given to a process as an environment variable, in any of the ways', () => {
    const secretKeyRef = plant('worker.yaml', (documents) => worker(documents).setIn([...container(), 'env'], [{
      name: 'STRIPE_SECRET_KEY', valueFrom: { secretKeyRef: { name: 'travelconnect-app-secrets', key: 'STRIPE_SECRET_KEY' } },
    }]));
    expect(checkManifests(secretKeyRef).problems).toEqual([
      `${secretKeyRef}/worker.yaml: Deployment/travelconnect-worker, container worker: env STRIPE_SECRET_KEY takes secretKeyRef travelconnect-app-secrets/STRIPE_SECRET_KEY; mount the Secret as a file and set STRIPE_SECRET_KEY_FILE`,
    ]);
    const envFrom = plant('api.yaml', (documents) => api(documents).addIn([...container(), 'envFrom'], { secretRef: { name: 'travelconnect-app-secrets' } }));
    expect(checkManifests(envFrom).problems).toEqual([
      `${envFrom}/api.yaml: Deployment/travelconnect-api, container api: envFrom secretRef travelconnect-app-secrets puts a Secret in the environment; mount it as files`,
    ]);
    const plain = plant('migrate-job.yaml', (documents) => documents[0]!.addIn([...container(), 'env'], {
      name: 'MIGRATION_DATABASE_URL', value: 'postgresql://travelconnect:pw@db:5432/travelconnect?sslmode=verify-full',
    }));
    expect(checkManifests(plain).problems).toEqual([
      `${plain}/migrate-job.yaml: Job/travelconnect-migrate, container migrate: env MIGRATION_DATABASE_URL is a secret given as a plain environment value; mount it and set MIGRATION_DATABASE_URL_FILE`,
    ]);
    const inConfigMap = plant('config.yaml', (documents) => documents[0]!.setIn(['data', 'METRICS_TOKEN'], 'a-metrics-token-of-24-characters'));
    expect(checkManifests(inConfigMap).problems).toEqual([
      `${inConfigMap}/config.yaml: ConfigMap/travelconnect-config: METRICS_TOKEN is a secret in a ConfigMap; put it in a Secret mounted as a file and set METRICS_TOKEN_FILE`,
    ]);
    // A secret's file must come from a mounted Secret, not from wherever a path happens to point.
    const outside = plant('config.yaml', (documents) => documents[0]!.setIn(['data', 'AUDIT_HMAC_KEY_FILE'], '/etc/travelconnect/ca/audit-key'));
    expect(checkManifests(outside).problems).toEqual(['api.yaml: Deployment/travelconnect-api, container api', 'worker.yaml: Deployment/travelconnect-worker, container worker']
      .map((at) => `${outside}/${at}: AUDIT_HMAC_KEY_FILE=/etc/travelconnect/ca/audit-key is a secret's file outside a mounted Secret`));
  });

  it('fails a container that may run as root or write its root file system', () => {
    const asRoot = plant('worker.yaml', (documents) => worker(documents).setIn([...container(), 'securityContext', 'runAsNonRoot'], false));
    expect(checkManifests(asRoot).problems).toEqual([`${asRoot}/worker.yaml: Deployment/travelconnect-worker, container worker: not runAsNonRoot`]);
    const writable = plant('api.yaml', (documents) => api(documents).setIn([...container(), 'securityContext', 'readOnlyRootFilesystem'], false));
    expect(checkManifests(writable).problems).toEqual([`${writable}/api.yaml: Deployment/travelconnect-api, container api: no readOnlyRootFilesystem`]);
  });

  it('fails what the Kubernetes schemas refuse: a misspelled field, a wrong type', () => {
    const misspelled = plant('worker.yaml', (documents) => {
      worker(documents).deleteIn(['spec', 'template', 'spec', 'terminationGracePeriodSeconds']);
      worker(documents).setIn(['spec', 'template', 'spec', 'terminationGracePeriodSecond'], 60);
    });
    const [problem, ...others] = checkManifests(misspelled).problems;
    expect(others).toEqual([]);
    expect(problem).toContain(`${misspelled}/worker.yaml did not validate for resource deployment/travelconnect-worker`);
    expect(problem).toContain("spec.template.spec: Additional properties are not allowed ('terminationGracePeriodSecond' was unexpected)");
    const wrongType = plant('api.yaml', (documents) => documents[1]!.setIn(['spec', 'ports', 0, 'port'], 'eighty'));
    expect(checkManifests(wrongType).problems).toEqual([
      expect.stringContaining("service/travelconnect-api against version 1.34: spec.ports.0.port: 'eighty' is not of type 'integer'"),
    ]);
  });
});
