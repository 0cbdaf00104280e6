import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { SECRET_VARIABLES } from '../infra/secrets.js';

/**
 * `npm run check:manifests [dir]` (part of `npm run lint`): the Kubernetes manifests of deploy/k8s,
 * checked offline twice. Against the Kubernetes API's own schemas for the version we deploy to
 * (kubernetes-validate, which bundles them; strict, so a misspelled field fails), and against our
 * deployment rules (policyProblems). One line per problem, naming the file, the resource and the field.
 */

/** The Kubernetes release the manifests are written for; kubernetes-validate bundles its schemas. */
export const KUBERNETES_VERSION = '1.34.0';

const root = fileURLToPath(new URL('..', import.meta.url));
const VALIDATOR = join(root, '.tools/venv/bin/kubernetes-validate');
const SECRETS: ReadonlySet<string> = new Set(SECRET_VARIABLES);

/** One YAML document of a manifest file, as parsed: a Kubernetes object or whatever else it holds. */
export interface Manifest {
  file: string;
  kind: string;
  name: string;
  namespace: string;
  body: Obj;
}
type Obj = Record<string, unknown>;

const obj = (value: unknown): Obj => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Obj) : {});
const list = (value: unknown): Obj[] => (Array.isArray(value) ? value.map(obj) : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Every document of every .yaml/.yml file in `dir`, in file order; YAML errors are problems. */
export function loadManifests(dir: string): { manifests: Manifest[]; files: string[]; problems: string[] } {
  const files = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)).sort().map((name) => join(dir, name));
  const manifests: Manifest[] = [];
  const problems: string[] = [];
  for (const file of files) {
    for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
      if (document.errors.length > 0) {
        problems.push(`${file}: not valid YAML: ${document.errors[0]!.message}`);
        continue;
      }
      const body = obj(document.toJS());
      if (Object.keys(body).length === 0) continue;
      const metadata = obj(body.metadata);
      manifests.push({ file, kind: str(body.kind), name: str(metadata.name), namespace: str(metadata.namespace), body });
    }
  }
  return { manifests, files, problems };
}

/** The pod template of a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) or a Pod's own spec. */
function podTemplate(manifest: Manifest): { labels: Obj; spec: Obj } | undefined {
  const spec = obj(manifest.body.spec);
  switch (manifest.kind) {
    case 'Pod':
      return { labels: obj(obj(manifest.body.metadata).labels), spec };
    case 'CronJob': {
      const template = obj(obj(obj(spec.jobTemplate).spec).template);
      return { labels: obj(obj(template.metadata).labels), spec: obj(template.spec) };
    }
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'Job': {
      const template = obj(spec.template);
      return { labels: obj(obj(template.metadata).labels), spec: obj(template.spec) };
    }
    default:
      return undefined;
  }
}

/** Whether a Service's selector picks pods with these labels (every pair of the selector present). */
const selects = (selector: Obj, labels: Obj) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels[key] === value);

/**
 * Our rules, beyond what the schemas say:
 * - a container that a Service sends traffic to has a liveness and a readiness probe;
 * - no secret reaches a process's environment: no secretKeyRef, no envFrom of a Secret, no plain value
 *   (or ConfigMap entry) under a secret's name (infra/secrets.ts): secrets are mounted files, named by
 *   <NAME>_FILE, and such a file lies in a mounted Secret;
 * - every container runs as non-root, on a read-only root file system with an emptyDir at /tmp, without
 *   privilege escalation and with every capability dropped.
 */
export function policyProblems(manifests: readonly Manifest[]): string[] {
  const problems: string[] = [];
  const services = manifests.filter((m) => m.kind === 'Service').map((m) => ({ namespace: m.namespace, selector: obj(obj(m.body.spec).selector) }));
  const configMaps = new Map(manifests.filter((m) => m.kind === 'ConfigMap').map((m) => [`${m.namespace}/${m.name}`, obj(m.body.data)]));

  for (const manifest of manifests) {
    const where = `${manifest.file}: ${manifest.kind}/${manifest.name}`;
    if (manifest.kind === 'ConfigMap') {
      for (const key of Object.keys(obj(manifest.body.data)).filter((key) => SECRETS.has(key))) {
        problems.push(`${where}: ${key} is a secret in a ConfigMap; put it in a Secret mounted as a file and set ${key}_FILE`);
      }
      continue;
    }
    const template = podTemplate(manifest);
    if (!template) continue;
    const pod = template.spec;
    const podSecurity = obj(pod.securityContext);
    const volumes = new Map(list(pod.volumes).map((volume) => [str(volume.name), volume]));
    const served = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod'].includes(manifest.kind)
      && services.some((service) => service.namespace === manifest.namespace && selects(service.selector, template.labels));

    const containers = [...list(pod.initContainers).map((c) => ({ container: c, init: true })), ...list(pod.containers).map((c) => ({ container: c, init: false }))];
    for (const { container, init } of containers) {
      const at = `${where}, container ${str(container.name)}`;
      const security = obj(container.securityContext);
      if (served && !init && list(container.ports).length > 0) {
        for (const probe of ['livenessProbe', 'readinessProbe']) {
          if (!container[probe]) problems.push(`${at}: no ${probe} (a Service sends it traffic)`);
        }
      }
      if ((security.runAsNonRoot ?? podSecurity.runAsNonRoot) !== true) problems.push(`${at}: not runAsNonRoot`);
      if (security.readOnlyRootFilesystem !== true) problems.push(`${at}: no readOnlyRootFilesystem`);
      if (security.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation is not false`);
      if (!(Array.isArray(obj(security.capabilities).drop) && (obj(security.capabilities).drop as unknown[]).includes('ALL'))) {
        problems.push(`${at}: capabilities do not drop ALL`);
      }
      const mounts = list(container.volumeMounts).map((mount) => ({ path: str(mount.mountPath), volume: obj(volumes.get(str(mount.name))) }));
      if (!mounts.some((mount) => mount.path === '/tmp' && mount.volume.emptyDir !== undefined)) {
        problems.push(`${at}: no emptyDir mounted at /tmp (the only place a read-only container can write)`);
      }

      const environment = new Map<string, string>();
      for (const source of list(container.envFrom)) {
        if (source.secretRef) problems.push(`${at}: envFrom secretRef ${str(obj(source.secretRef).name)} puts a Secret in the environment; mount it as files`);
        const data = configMaps.get(`${manifest.namespace}/${str(obj(source.configMapRef).name)}`);
        for (const [key, value] of Object.entries(data ?? {})) environment.set(key, str(value));
      }
      for (const variable of list(container.env)) {
        const name = str(variable.name);
        const secretRef = obj(obj(variable.valueFrom).secretKeyRef);
        if (Object.keys(secretRef).length > 0) {
          problems.push(`${at}: env ${name} takes secretKeyRef ${str(secretRef.name)}/${str(secretRef.key)}; mount the Secret as a file and set ${name.replace(/_FILE$/, '')}_FILE`);
        } else if (SECRETS.has(name)) {
          problems.push(`${at}: env ${name} is a secret given as a plain environment value; mount it and set ${name}_FILE`);
        }
        if (typeof variable.value === 'string') environment.set(name, variable.value);
      }
      // Each <NAME>_FILE names a mounted file; a secret's, one of a mounted Secret (or a projection of one).
      for (const [name, path] of [...environment].filter(([key]) => key.endsWith('_FILE'))) {
        const mount = mounts.find((m) => path.startsWith(`${m.path.replace(/\/+$/, '')}/`));
        const fromSecret = mount !== undefined
          && (mount.volume.secret !== undefined || list(obj(mount.volume.projected).sources).some((source) => source.secret !== undefined));
        if (!mount) problems.push(`${at}: ${name}=${path} is under no volume mounted in the container`);
        else if (SECRETS.has(name.slice(0, -'_FILE'.length)) && !fromSecret) problems.push(`${at}: ${name}=${path} is a secret's file outside a mounted Secret`);
      }
    }
  }
  return problems;
}

/** kubernetes-validate --strict on the files, for KUBERNETES_VERSION; its ERROR lines are the problems. */
export function schemaProblems(files: readonly string[], version = KUBERNETES_VERSION): string[] {
  if (!existsSync(VALIDATOR)) return [`kubernetes-validate is not installed in .tools/venv: run npm run install:tools`];
  if (files.length === 0) return [];
  const result = spawnSync(VALIDATOR, ['--strict', '--quiet', '--no-warn', '-k', version, ...files], { encoding: 'utf8' });
  const lines = `${result.stdout}${result.stderr}`.split('\n').map((line) => line.trim()).filter(Boolean);
  const errors = lines.filter((line) => !line.startsWith('INFO'));
  if (result.status === 0) return [];
  return errors.length > 0 ? errors : [`kubernetes-validate exited ${result.status ?? result.signal}`];
}

/** Both checks on every manifest in `dir`. */
export function checkManifests(dir: string): { problems: string[]; resources: number; files: number } {
  const loaded = loadManifests(dir);
  const problems = [...loaded.problems, ...schemaProblems(loaded.files), ...policyProblems(loaded.manifests)];
  return { problems, resources: loaded.manifests.length, files: loaded.files.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? join(root, 'deploy/k8s');
  const { problems, resources, files } = checkManifests(dir);
  const shown = relative(process.cwd(), dir) || '.';
  if (problems.length > 0) {
    process.stderr.write(`${problems.map((problem) => `manifests: ${problem}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`manifests: ${resources} resources in ${files} files of ${shown} pass the Kubernetes ${KUBERNETES_VERSION} schemas and the deployment rules\n`);
}
