import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, type Document } from 'yaml';
import { checkManifests, KUBERNETES_VERSION } from '../../deploy/check-manifests.js';

// deploy/k8s checked offline as CI checks it (npm run lint runs npm run check:manifests): the real
// manifests pass; each planted mistake, in a copy, fails with a line naming it and nothing else.

const root = fileURLToPath(new URL('../..', import.meta.url));
const manifests = join(root, 'deploy/k8s');
const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** A copy of deploy/k8s with `file`'s documents changed by `change` (one per document, in order). */
function plant(file: string, change: (documents: Document[]) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'tc-k8s-'));
  copies.push(dir);
  cpSync(manifests, dir, { recursive: true });
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
