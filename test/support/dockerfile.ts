import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { basename, dirname, join, posix, relative } from 'node:path';

/**
 * The part of the Dockerfile language deploy/Dockerfile uses, read and carried out on this machine,
 * which has no Docker engine: each stage is a directory standing for its WORKDIR, COPY copies from the
 * build context (honouring .dockerignore) or moves from an earlier stage's directory, RUN runs in the
 * stage's directory. What the image would get, the runtime stage's directory gets.
 */

export interface Instruction { op: string; args: string; line: number }
export interface Stage { name: string; from: string; instructions: Instruction[] }

/** Stages in order, their instructions with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const start = index + 1;
    let line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    while (line.endsWith('\\') && index + 1 < lines.length) {
      index += 1;
      line = `${line.slice(0, -1).trimEnd()} ${lines[index]!.trim()}`;
    }
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { op: op.toUpperCase(), args, line: start };
    if (instruction.op === 'FROM') {
      const [, from = '', name = `stage${stages.length}`] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ name, from, instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`Dockerfile line ${start}: ${op} before FROM`);
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

/** The exec form (`["a", "b"]`) of ENTRYPOINT and CMD; the shell form would need a shell the image lacks. */
export function execForm(instruction: Instruction): string[] {
  const parsed: unknown = JSON.parse(instruction.args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`Dockerfile line ${instruction.line}: ${instruction.op} is not in exec form`);
  }
  return parsed;
}

/** .dockerignore as deploy/Dockerfile's context uses it: plain paths (and what is under them) and **\/name. */
export function dockerIgnore(text: string): (path: string) => boolean {
  const patterns = text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const checks = patterns.map((pattern) => {
    if (/^\*\*\/[^*?[\]/]+$/.test(pattern)) {
      const segment = pattern.slice(3);
      return (path: string) => path.split('/').includes(segment);
    }
    if (/[*?[\]!]/.test(pattern)) throw new Error(`.dockerignore pattern ${pattern} is not one this reader supports`);
    const plain = pattern.replace(/^\/+|\/+$/g, '');
    return (path: string) => path === plain || path.startsWith(`${plain}/`);
  });
  return (path) => checks.some((check) => check(path));
}

export interface StageRunOptions {
  /** The build context (the repository root). */
  context: string;
  ignored: (path: string) => boolean;
  /** Each stage's directory, by name; earlier stages' must be there for COPY --from. */
  dirs: Map<string, string>;
  /** The environment of RUN, as a base image would give it. */
  env: NodeJS.ProcessEnv;
  /** RUN commands replaced by something else here (the caller says why); the key is the exact command. */
  replace?: Record<string, (dir: string) => void>;
  /** `docker build --build-arg NAME=value`: what the stage's ARGs hold (unset, their default or empty). */
  buildArgs?: Record<string, string>;
}

/** What the runtime stage declares: its environment, user, entry point and command. */
export interface Declared { workdir: string; env: Record<string, string>; user?: string; entrypoint?: string[]; cmd?: string[]; runs: string[] }

/** Carries out one stage into options.dirs.get(stage.name); returns what it declared and the commands it ran. */
export function runStage(stage: Stage, options: StageRunOptions): Declared {
  const dir = options.dirs.get(stage.name);
  if (!dir) throw new Error(`no directory for stage ${stage.name}`);
  mkdirSync(dir, { recursive: true });
  const declared: Declared = { workdir: '/', env: {}, runs: [] };
  // The stage's ARGs, which ENV values name as ${NAME}, as Docker substitutes them.
  const buildArgs: Record<string, string> = {};
  // An absolute path of the image, or one relative to WORKDIR, as a path under the stage's directory.
  const inStage = (stageDir: string, workdir: string, path: string) => {
    const absolute = posix.resolve(workdir, path);
    if (workdir === '/' || !(absolute === workdir || absolute.startsWith(`${workdir}/`))) {
      throw new Error(`stage ${stage.name}: ${path} is outside WORKDIR ${workdir}, which this reader does not map`);
    }
    return join(stageDir, posix.relative(workdir, absolute));
  };
  for (const { op, args, line } of stage.instructions) {
    const where = `Dockerfile line ${line} (${stage.name})`;
    if (op === 'WORKDIR') {
      declared.workdir = posix.resolve(declared.workdir, args);
    } else if (op === 'ENV') {
      const [, name = '', value = ''] = /^([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/.exec(args) ?? [];
      if (!name) throw new Error(`${where}: ENV must be NAME=value`);
      declared.env[name] = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, arg: string) => {
        if (!(arg in buildArgs)) throw new Error(`${where}: ENV names \${${arg}}, which no ARG of this stage declares`);
        return buildArgs[arg]!;
      });
    } else if (op === 'ARG') {
      const [, name = '', fallback = ''] = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?$/.exec(args) ?? [];
      if (!name) throw new Error(`${where}: ARG must be NAME or NAME=default`);
      buildArgs[name] = options.buildArgs?.[name] ?? fallback;
    } else if (op === 'USER') {
      declared.user = args;
    } else if (op === 'ENTRYPOINT') {
      declared.entrypoint = execForm({ op, args, line });
    } else if (op === 'CMD') {
      declared.cmd = execForm({ op, args, line });
    } else if (op === 'RUN') {
      declared.runs.push(args);
      const replacement = options.replace?.[args];
      if (replacement) {
        replacement(dir);
        continue;
      }
      const result = spawnSync('sh', ['-c', args], { cwd: dir, env: options.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      if (result.status !== 0) throw new Error(`${where}: RUN ${args} exited ${result.status}\n${(result.stdout + result.stderr).slice(-4000)}`);
    } else if (op === 'COPY') {
      const words = args.split(/\s+/);
      const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
      const unknownFlag = words.find((word) => word.startsWith('--') && !word.startsWith('--from='));
      if (unknownFlag) throw new Error(`${where}: COPY ${unknownFlag} is not one this reader supports`);
      const paths = words.filter((word) => !word.startsWith('--'));
      const destination = paths.pop()!;
      const target = inStage(dir, declared.workdir, destination);
      for (const source of paths) {
        if (from) {
          // Another stage's file, moved: the stage directories are thrown away after the build.
          const fromDir = options.dirs.get(from);
          if (!fromDir) throw new Error(`${where}: no stage ${from}`);
          const sourcePath = join(fromDir, source.replace(/^\/app\/?/, ''));
          if (!source.startsWith('/app/') || !existsSync(sourcePath)) throw new Error(`${where}: ${source} is not in stage ${from}`);
          const to = destination.endsWith('/') && !statSync(sourcePath).isDirectory() ? join(target, basename(sourcePath)) : target;
          mkdirSync(dirname(to), { recursive: true });
          renameSync(sourcePath, to);
        } else {
          const sourcePath = join(options.context, source);
          if (options.ignored(source.replace(/\/+$/, ''))) throw new Error(`${where}: ${source} is excluded by .dockerignore`);
          // A directory's contents go into the destination, as Docker copies them; a file into it when it ends in /.
          const to = statSync(sourcePath).isDirectory() || !destination.endsWith('/') ? target : join(target, basename(sourcePath));
          cpSync(sourcePath, to, { recursive: true, filter: (path) => !options.ignored(relative(options.context, path)) });
        }
      }
    } else if (!['EXPOSE', 'LABEL'].includes(op)) {
      throw new Error(`${where}: ${op} is not an instruction this reader carries out`);
    }
  }
  return declared;
}

/** The Dockerfile's stages and the context's .dockerignore, read from the repository. */
export function readImageDefinition(root: string) {
  return {
    stages: parseDockerfile(readFileSync(join(root, 'deploy/Dockerfile'), 'utf8')),
    ignored: dockerIgnore(readFileSync(join(root, '.dockerignore'), 'utf8')),
  };
}
