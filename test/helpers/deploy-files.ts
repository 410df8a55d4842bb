/**
 * Readers for the deployment files (Dockerfile, .dockerignore, docker-compose.yml) so a test can
 * check them without a Docker engine: Compose variable interpolation, Dockerfile instructions
 * grouped by stage, .dockerignore matching, and the files each stage of an image holds. Each
 * covers the subset of the syntax those files use, and fails loudly on what it does not
 * understand rather than guessing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

// ---------------------------------------------------------------------------------------------
// Compose interpolation
// ---------------------------------------------------------------------------------------------

const interpolation = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\$\{[^}]*\}?/g;

/** Raised for `${VAR:?message}` / `${VAR?message}` when VAR is missing, as `docker compose` does. */
export class MissingComposeVariable extends Error {
  constructor(
    readonly variable: string,
    readonly hint: string,
  ) {
    super(`required variable ${variable} is missing a value: ${hint}`);
  }
}

/**
 * Expands one string as Compose does: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?err}`, `${VAR?err}`. Anything else starting with `${` throws (unsupported here).
 */
export function interpolateString(value: string, variables: Record<string, string | undefined>): string {
  return value.replace(interpolation, (match, name?: string, operator?: string, argument?: string, bare?: string) => {
    if (match === '$$') return '$';
    if (bare) return variables[bare] ?? '';
    if (!name) throw new Error(`unsupported interpolation ${match} in ${JSON.stringify(value)}`);
    const current = variables[name];
    const unset = current === undefined;
    const empty = unset || current === '';
    switch (operator) {
      case undefined:
        return current ?? '';
      case ':-':
        return empty ? (argument ?? '') : current!;
      case '-':
        return unset ? (argument ?? '') : current!;
      case ':?':
        if (empty) throw new MissingComposeVariable(name, argument ?? '');
        return current!;
      case '?':
        if (unset) throw new MissingComposeVariable(name, argument ?? '');
        return current!;
      default:
        throw new Error(`unsupported interpolation ${match}`);
    }
  });
}

/** Interpolates every string (keys stay as written) in a parsed Compose document. */
export function interpolateDeep<T>(node: T, variables: Record<string, string | undefined>): T {
  if (typeof node === 'string') return interpolateString(node, variables) as T;
  if (Array.isArray(node)) return node.map((item) => interpolateDeep(item, variables)) as T;
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, interpolateDeep(value, variables)])) as T;
  }
  return node;
}

/** A Compose `environment:` (map or `KEY=VALUE` list) as a map; a bare `KEY` maps to undefined. */
export function environmentMap(environment: unknown): Record<string, string | undefined> {
  if (environment === undefined || environment === null) return {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry: string) => {
        const at = entry.indexOf('=');
        return at === -1 ? [entry, undefined] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  if (typeof environment === 'object') {
    return Object.fromEntries(
      Object.entries(environment).map(([key, value]) => [key, value === null || value === undefined ? undefined : String(value)]),
    );
  }
  throw new Error(`environment must be a map or a list, got ${JSON.stringify(environment)}`);
}

/** A Compose `command:`/`test:` as argv (exec-form list, or a string split on spaces as Compose does). */
export function argv(command: unknown): string[] {
  if (Array.isArray(command)) return command.map(String);
  if (typeof command === 'string') return command.trim().split(/\s+/);
  throw new Error(`expected a command, got ${JSON.stringify(command)}`);
}

/** The container port of a short-syntax `ports:` entry (`[ip:][host:]container[/proto]`) or long syntax. */
export function containerPort(entry: unknown): number {
  if (typeof entry === 'number') return entry;
  if (typeof entry === 'string') {
    const withoutProtocol = entry.split('/')[0]!;
    const last = withoutProtocol.split(':').at(-1)!;
    if (!/^\d+$/.test(last)) throw new Error(`unsupported port mapping ${entry}`);
    return Number(last);
  }
  if (entry && typeof entry === 'object' && 'target' in entry) return Number((entry as { target: unknown }).target);
  throw new Error(`unsupported port mapping ${JSON.stringify(entry)}`);
}

/** Values of `--name value` / `--name=value` in argv. */
export function optionValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === `--${name}`) return args[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------------

export interface DockerInstruction {
  keyword: string;
  /** Raw arguments, continuation lines joined. */
  args: string;
  /** `--from=…`, `--chown=…` style flags at the start of args. */
  flags: Record<string, string>;
  /** args without the leading flags, split as the shell form would be (JSON form parsed). */
  words: string[];
  json: boolean;
}

export interface DockerStage {
  name: string | undefined;
  /** Base image (ARG defaults substituted) or an earlier stage's name. */
  from: string;
  instructions: DockerInstruction[];
}

/** Splits a Dockerfile into stages; comments and parser directives dropped, continuations joined. */
export function parseDockerfile(text: string): { args: Record<string, string>; stages: DockerStage[] } {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full) logical.push(full);
  }
  if (pending.trim()) logical.push(pending.trim());

  const globalArgs: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line)!;
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!;
    const instruction = toInstruction(keyword, args);
    if (keyword === 'ARG' && stages.length === 0) {
      const [name, value] = args.split('=', 2);
      if (name) globalArgs[name.trim()] = (value ?? '').trim();
      continue;
    }
    if (keyword === 'FROM') {
      const fromMatch = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.words.join(' '));
      if (!fromMatch) throw new Error(`cannot read ${line}`);
      const from = fromMatch[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a?: string, b?: string) => {
        const value = globalArgs[(a ?? b)!];
        if (value === undefined) throw new Error(`FROM uses undeclared ARG ${a ?? b}`);
        return value;
      });
      stages.push({ name: fromMatch[2], from, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${keyword} before the first FROM`);
    stage.instructions.push(instruction);
  }
  return { args: globalArgs, stages };
}

function toInstruction(keyword: string, args: string): DockerInstruction {
  const flags: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const flag = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest);
    if (!flag) break;
    flags[flag[1]!] = flag[2] ?? 'true';
    rest = rest.slice(flag[0].length);
  }
  // HEALTHCHECK [options] CMD [...]: keep the options as flags, the rest as words.
  if (rest.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(rest);
      if (Array.isArray(parsed)) return { keyword, args, flags, words: parsed.map(String), json: true };
    } catch {
      // not JSON: shell form
    }
  }
  return { keyword, args, flags, words: rest.split(/\s+/).filter(Boolean), json: false };
}

/** The WORKDIR-resolved destination of a COPY/ADD inside its stage (container paths are POSIX). */
export function resolveInStage(stage: DockerStage, instruction: DockerInstruction, target: string): string {
  let workdir = '/';
  for (const candidate of stage.instructions) {
    if (candidate === instruction) break;
    if (candidate.keyword === 'WORKDIR') workdir = path.posix.resolve(workdir, candidate.words[0]!);
  }
  return path.posix.resolve(workdir, target);
}

// ---------------------------------------------------------------------------------------------
// .dockerignore
// ---------------------------------------------------------------------------------------------

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i]!;
    if (char === '*') {
      if (pattern[i + 1] === '*') {
        source += '.*';
        i += 1;
        if (pattern[i + 1] === '/') i += 1;
      } else source += '[^/]*';
    } else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * Whether `.dockerignore` excludes a context path (as BuildKit reads it: patterns relative to the
 * context root, `!` re-includes, the last matching pattern wins, a match on a parent folder
 * excludes everything under it).
 */
export function isDockerIgnored(dockerignore: string, contextPath: string): boolean {
  const rules = dockerignore
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = path.posix.normalize((negate ? line.slice(1) : line).trim()).replace(/^\/+|\/+$/g, '');
      return { negate, regexp: globToRegExp(pattern) };
    });
  const normalized = path.posix.normalize(contextPath).replace(/^\.?\/+|\/+$/g, '');
  const parts = normalized.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.regexp.test(candidate))) ignored = !rule.negate;
  }
  return ignored;
}

// ---------------------------------------------------------------------------------------------
// The files of an image, without an engine
// ---------------------------------------------------------------------------------------------

/** One stage's file system, assembled in a host folder. */
export interface AssembledStage {
  name: string | undefined;
  /** Host folder standing for the stage's `/`. */
  root: string;
  /** The stage's last WORKDIR (container path). */
  workdir: string;
}

export interface AssembleOptions {
  /** Build context: the folder `docker build` is given. */
  context: string;
  /** Contents of the context's .dockerignore. */
  dockerignore: string;
  /** Empty host folder in which each stage gets a folder of its own. */
  into: string;
  /**
   * Carries out a RUN instruction's shell command in `cwd` (the host folder of the stage's
   * WORKDIR); it throws for a command it cannot reproduce.
   */
  run(command: string, cwd: string): Promise<void>;
}

/** A container path of a stage, on the host. */
export function hostPath(stage: AssembledStage, containerPath: string): string {
  return path.join(stage.root, path.posix.resolve(stage.workdir, containerPath));
}

/**
 * Builds every stage's files the way `docker build` would: FROM an earlier stage starts from
 * its files (a base image from an empty folder), WORKDIR, COPY from the context (minus what
 * .dockerignore excludes) or `--from` an earlier stage, and RUN through `options.run`. Other
 * instructions only set metadata and are skipped.
 */
export async function assembleStages(
  dockerfile: { stages: DockerStage[] },
  options: AssembleOptions,
): Promise<AssembledStage[]> {
  const assembled: AssembledStage[] = [];
  for (const [index, stage] of dockerfile.stages.entries()) {
    const root = path.join(options.into, `${index}-${stage.name ?? 'stage'}`);
    const parent = assembled.find((earlier) => earlier.name === stage.from);
    if (parent) await cp(parent.root, root, { recursive: true, verbatimSymlinks: true });
    else await mkdir(root, { recursive: true });
    const current: AssembledStage = { name: stage.name, root, workdir: parent?.workdir ?? '/' };

    for (const instruction of stage.instructions) {
      const { keyword } = instruction;
      if (keyword === 'WORKDIR') {
        current.workdir = path.posix.resolve(current.workdir, instruction.words[0]!);
        await mkdir(path.join(root, current.workdir), { recursive: true });
      } else if (keyword === 'COPY') {
        await copy(instruction, current, assembled, options);
      } else if (keyword === 'RUN') {
        if (instruction.json) throw new Error(`RUN in exec form is not reproduced: ${instruction.args}`);
        await options.run(instruction.words.join(' '), path.join(root, current.workdir));
      } else if (keyword === 'ADD') {
        throw new Error(`ADD is not reproduced (use COPY): ${instruction.args}`);
      }
    }
    assembled.push(current);
  }
  return assembled;
}

async function copy(
  instruction: DockerInstruction,
  stage: AssembledStage,
  earlier: readonly AssembledStage[],
  options: AssembleOptions,
): Promise<void> {
  const sources = instruction.words.slice(0, -1);
  const target = instruction.words.at(-1)!;
  const destination = path.join(stage.root, path.posix.resolve(stage.workdir, target));
  const intoFolder = target.endsWith('/') || target === '.' || sources.length > 1;
  const from = instruction.flags.from;
  const origin = from === undefined ? undefined : earlier.find((candidate) => candidate.name === from);
  if (from !== undefined && !origin) throw new Error(`COPY --from=${from}: no earlier stage of that name`);

  for (const source of sources) {
    const hostSource = origin ? path.join(origin.root, path.posix.resolve('/', source)) : path.join(options.context, source);
    if (!origin && isDockerIgnored(options.dockerignore, source)) throw new Error(`COPY ${source}: excluded by .dockerignore`);
    const stats = await stat(hostSource).catch(() => undefined);
    if (!stats) throw new Error(`COPY ${source}: not found${from ? ` in stage ${from}` : ' in the build context'}`);
    // A folder's contents land in the destination; a file lands in it, or as it.
    const to = stats.isDirectory() || !intoFolder ? destination : path.join(destination, path.basename(source));
    await cp(hostSource, to, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (file) => origin !== undefined || !isDockerIgnored(options.dockerignore, path.relative(options.context, file)),
    });
  }
}

/**
 * RUN commands of a Node image reproduced with a repository's installed packages: `npm ci`
 * links them (with --omit=dev, only the top-level packages package-lock.json does not mark
 * dev), `npm run <script>` runs, `npm cache clean` does nothing. Anything else is refused,
 * so a new RUN step needs a decision here.
 */
export function reproduceNpmRun(repository: string): AssembleOptions['run'] {
  return async (command, cwd) => {
    for (const step of command.split('&&').map((part) => part.trim())) {
      const script = /^npm run ([\w:-]+)$/.exec(step)?.[1];
      if (/^npm ci\b/.test(step)) await linkPackages(repository, cwd, /\s--omit=dev\b/.test(step));
      else if (script) await promisify(execFile)('npm', ['run', script], { cwd });
      else if (!/^npm cache clean\b/.test(step)) throw new Error(`no host equivalent for RUN step "${step}"`);
    }
  };
}

async function linkPackages(repository: string, cwd: string, productionOnly: boolean): Promise<void> {
  const lockText = await readFile(path.join(cwd, 'package-lock.json'), 'utf8');
  if (lockText !== (await readFile(path.join(repository, 'package-lock.json'), 'utf8'))) {
    throw new Error(`${cwd}/package-lock.json is not the repository's: its node_modules cannot stand for npm ci`);
  }
  if (!productionOnly) {
    await symlink(path.join(repository, 'node_modules'), path.join(cwd, 'node_modules'));
    return;
  }
  const lock = JSON.parse(lockText) as { packages: Record<string, { dev?: boolean }> };
  for (const [location, entry] of Object.entries(lock.packages)) {
    // Top-level packages only: nested ones come inside their parent's folder.
    if (!/^node_modules\/(@[^/]+\/)?[^/]+$/.test(location) || entry.dev) continue;
    if (!existsSync(path.join(repository, location))) continue; // an optional package for another platform
    await mkdir(path.dirname(path.join(cwd, location)), { recursive: true });
    await symlink(path.join(repository, location), path.join(cwd, location));
  }
}
