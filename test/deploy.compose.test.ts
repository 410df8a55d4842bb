/**
 * The deployment files, checked without a Docker engine: docker-compose.yml runs real mvfleet
 * subcommands (built in, or added by the app's config) with env names src/config/env.ts knows,
 * its ports, healthchecks and depends_on conditions line up; the Dockerfile builds what
 * tsconfig.build.json compiles into a non-root runtime whose entry, package exports, app config
 * and healthcheck match the code; and the files its stages hold, assembled on the host, run the
 * example app with production dependencies only.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createCatalog } from '../src/catalog/catalog.js';
import { commands } from '../src/cli/commands/index.js';
import { ENV_KEYS, loadEnv, minimalChildEnv } from '../src/config/env.js';
import type { Command, MvfleetConfig } from '../src/config/define-config.js';
import { CONFIG_FILE_NAMES } from '../src/config/load-config.js';
import { DEFAULT_ENGINE_SCHEMA } from '../src/store/engine-schema.js';
import { useTestDatabase } from './helpers/database.js';
import {
  argv,
  assembleStages,
  containerPort,
  environmentMap,
  hostPath,
  interpolateDeep,
  isDockerIgnored,
  MissingComposeVariable,
  optionValue,
  parseDockerfile,
  reproduceNpmRun,
  resolveInStage,
  type DockerStage,
} from './helpers/deploy-files.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const execFileAsync = promisify(execFile);

interface Healthcheck {
  test?: unknown;
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: unknown;
  command?: unknown;
  environment?: unknown;
  env_file?: unknown;
  ports?: unknown[];
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition?: string }> | string[];
  restart?: string;
  profiles?: string[];
  deploy?: { replicas?: number };
  container_name?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
}

/** What `docker compose` sees with a token set (it refuses to start without one). */
const composeVariables = { MVFLEET_DASHBOARD_TOKEN: 't'.repeat(32) };
const composeRaw: unknown = parse(read('docker-compose.yml'), { merge: true });
const compose = interpolateDeep(composeRaw, composeVariables) as ComposeFile;
const services = Object.entries(compose.services);
/** Services running the mvfleet image (built from the Dockerfile). */
const appServices = services.filter(([, service]) => service.build !== undefined);
const isOneShot = (service: Service) => service.restart === 'no';

const dockerfile = parseDockerfile(read('Dockerfile'));
const runtime = dockerfile.stages.at(-1)!;
const dockerignore = read('.dockerignore');

/** A stage's working directory (container path). */
const workdir = (stage: DockerStage) => resolveInStage(stage, stage.instructions.at(-1)!, '.');
/** COPY/ADD instructions from the build context, by stage. */
const localCopies = dockerfile.stages.flatMap((stage) =>
  stage.instructions
    .filter((instruction) => (instruction.keyword === 'COPY' || instruction.keyword === 'ADD') && !instruction.flags.from)
    .map((instruction) => ({ stage, instruction, sources: instruction.words.slice(0, -1), target: instruction.words.at(-1)! })),
);

/** The context path the runtime image holds at `containerPath` (the last COPY wins), if any. */
function contextPathOf(containerPath: string): string | undefined {
  let found: string | undefined;
  for (const { stage, instruction, sources, target } of localCopies) {
    if (stage !== runtime) continue;
    const destination = resolveInStage(runtime, instruction, target);
    const intoFolder = target.endsWith('/') || target === '.' || sources.length > 1;
    for (const source of sources) {
      const local = path.join(root, source);
      if (!existsSync(local)) continue;
      if (statSync(local).isDirectory()) {
        const inside = path.posix.relative(destination, containerPath);
        const candidate = path.posix.join(source, inside);
        const within = inside === '' || (!inside.startsWith('..') && !path.posix.isAbsolute(inside));
        if (within && existsSync(path.join(root, candidate)) && !isDockerIgnored(dockerignore, candidate)) found = candidate;
      } else if ((intoFolder ? path.posix.join(destination, path.posix.basename(source)) : destination) === containerPath) {
        found = source;
      }
    }
  }
  return found;
}

/** ENV set by the runtime stage (`ENV A=1 B=2` form). */
const imageEnv: Record<string, string> = Object.fromEntries(
  runtime.instructions
    .filter((instruction) => instruction.keyword === 'ENV')
    .flatMap((instruction) =>
      instruction.words.map((word) => {
        const at = word.indexOf('=');
        if (at === -1) throw new Error(`use ENV KEY=VALUE in the Dockerfile (got ${instruction.args})`);
        return [word.slice(0, at), word.slice(at + 1)] as const;
      }),
    ),
);

/** The config file the CLI finds in the image (MVFLEET_CONFIG, else the working directory's), as a container path. */
const imageConfigPath = imageEnv.MVFLEET_CONFIG
  ? path.posix.resolve(workdir(runtime), imageEnv.MVFLEET_CONFIG)
  : CONFIG_FILE_NAMES.map((name) => path.posix.join(workdir(runtime), name)).find((file) => contextPathOf(file));
/** That config, from the repository file the image copies it from. */
const imageConfigSource = imageConfigPath === undefined ? undefined : contextPathOf(imageConfigPath);
const appConfig: MvfleetConfig | undefined = imageConfigSource
  ? ((await import(path.join(root, imageConfigSource))) as { default: MvfleetConfig }).default
  : undefined;

/** Built-in commands and those the image's config adds. */
const allCommands: readonly Command[] = [...commands, ...(appConfig?.commands ?? [])];
const commandByName = new Map(allCommands.map((command) => [command.name, command]));
const envKeys = new Set<string>(ENV_KEYS);

/** Every `--flag` in argv appears in the command's usage line. */
function unknownFlags(args: string[]): string[] {
  const [name, ...rest] = args;
  const usage = commandByName.get(name!)?.usage ?? '';
  return rest
    .filter((arg) => arg.startsWith('--'))
    .map((arg) => arg.split('=')[0]!)
    .filter((flag) => !new RegExp(`(^|[\\s\\[|])${flag}(?=[\\s\\]=]|$)`).test(usage));
}

function serviceEnv(service: Service): Record<string, string | undefined> {
  return environmentMap(service.environment);
}

/** The image's instructions (final stage) of one keyword. */
function runtimeInstructions(keyword: string) {
  return runtime.instructions.filter((instruction) => instruction.keyword === keyword);
}

function hasHealthcheck(service: Service): boolean {
  if (service.healthcheck?.disable) return false;
  if (service.healthcheck?.test !== undefined) return true;
  // An app service without its own inherits the image's HEALTHCHECK.
  return service.build !== undefined && runtimeInstructions('HEALTHCHECK').length > 0;
}

function healthcheckText(service: Service): string {
  const test = argv(service.healthcheck?.test);
  return test.join(' ');
}

/** Ports of http://host:PORT/ URLs in a healthcheck. */
function urlPorts(text: string): number[] {
  return [...text.matchAll(/https?:\/\/[^/:\s'"]+:(\d+)\//g)].map((match) => Number(match[1]));
}

describe('docker-compose.yml', () => {
  it('refuses to start without a dashboard token', () => {
    expect(() => interpolateDeep(composeRaw, {})).toThrow(MissingComposeVariable);
    expect(() => interpolateDeep(composeRaw, {})).toThrow(/MVFLEET_DASHBOARD_TOKEN/);
  });

  it('runs PostgreSQL 16, Redis 7 and the migrate, worker, scheduler and dashboard services', () => {
    expect(compose.services.postgres?.image).toMatch(/^postgres:16(\b|$)/);
    expect(compose.services.redis?.image).toMatch(/^redis:7(\b|$)/);
    const byCommand = new Set(appServices.map(([, service]) => argv(service.command)[0]));
    for (const name of ['migrate', 'worker', 'scheduler', 'dashboard']) expect(byCommand).toContain(name);
  });

  it('runs a real mvfleet subcommand with flags it accepts in every app service', () => {
    expect(appServices.length).toBeGreaterThan(0);
    for (const [name, service] of appServices) {
      const args = argv(service.command);
      expect(commandByName.has(args[0]!), `${name}: "${args[0]}" is not an mvfleet subcommand`).toBe(true);
      expect(unknownFlags(args), `${name}: flags missing from "${commandByName.get(args[0]!)?.usage}"`).toEqual([]);
    }
  });

  it('gives app services only env names src/config/env.ts reads, with values it accepts', () => {
    for (const [name, service] of appServices) {
      expect(service.env_file, `${name}: env_file hides names from this check`).toBeUndefined();
      const env = serviceEnv(service);
      expect(Object.keys(env).filter((key) => !envKeys.has(key)), `${name}: unknown env names`).toEqual([]);
      expect(() => loadEnv({ ...imageEnv, ...env }), `${name}: env rejected by src/config/env.ts`).not.toThrow();
    }
    expect(Object.keys(imageEnv).filter((key) => !envKeys.has(key)), 'Dockerfile ENV names').toEqual([]);
  });

  it('points DATABASE_URL and REDIS_URL at the compose services with matching credentials', () => {
    const postgresEnv = serviceEnv(compose.services.postgres!);
    for (const [name, service] of appServices) {
      const env = serviceEnv(service);
      const database = new URL(env.DATABASE_URL!);
      expect(database.hostname, name).toBe('postgres');
      expect(database.port || '5432', name).toBe('5432');
      expect(decodeURIComponent(database.username), name).toBe(postgresEnv.POSTGRES_USER);
      expect(decodeURIComponent(database.password), name).toBe(postgresEnv.POSTGRES_PASSWORD);
      expect(database.pathname.slice(1), name).toBe(postgresEnv.POSTGRES_DB);
      if (env.REDIS_URL !== undefined) {
        const redis = new URL(env.REDIS_URL);
        expect(redis.hostname, name).toBe('redis');
        expect(redis.port || '6379', name).toBe('6379');
      }
    }
  });

  it("connects as a role not named like mvfleet's schema (the default search_path starts with \"$user\")", () => {
    const role = serviceEnv(compose.services.postgres!).POSTGRES_USER;
    expect(role).toBeDefined();
    expect(role, "the app's unqualified tables would land in mvfleet's schema").not.toBe(appConfig?.schema ?? DEFAULT_ENGINE_SCHEMA);
  });

  it('gives the write token to the dashboard only', () => {
    for (const [name, service] of appServices) {
      const hasToken = serviceEnv(service).MVFLEET_DASHBOARD_TOKEN !== undefined;
      expect(hasToken, name).toBe(argv(service.command)[0] === 'dashboard');
    }
  });

  it('publishes the dashboard on the port it listens on, bound to all interfaces, and checks /readyz there', () => {
    const dashboards = appServices.filter(([, service]) => argv(service.command)[0] === 'dashboard');
    expect(dashboards).toHaveLength(1);
    const [, dashboard] = dashboards[0]!;
    const args = argv(dashboard.command);
    const env = serviceEnv(dashboard);
    const flagPort = optionValue(args, 'port');
    const envPort = env.PORT ?? imageEnv.PORT;
    if (flagPort !== undefined && env.PORT !== undefined) expect(flagPort).toBe(env.PORT);
    const port = Number(flagPort ?? envPort ?? loadEnv({}).PORT);

    expect(optionValue(args, 'host'), 'a container must listen beyond its loopback').toMatch(/^(0\.0\.0\.0|::)$/);
    expect(dashboard.ports?.length).toBeGreaterThan(0);
    for (const entry of dashboard.ports ?? []) expect(containerPort(entry)).toBe(port);

    const check = healthcheckText(dashboard);
    expect(check).toContain('/readyz');
    expect(urlPorts(check)).toEqual([port]);
  });

  it('has a healthcheck on every long-running service and none on one-shot ones', () => {
    for (const [name, service] of services) {
      if (service.build !== undefined && isOneShot(service)) {
        expect(service.healthcheck?.disable, `${name} is one-shot: the image's /healthz probe does not apply`).toBe(true);
        continue;
      }
      expect(service.healthcheck?.disable, name).not.toBe(true);
      expect(service.healthcheck?.test, `${name} needs its own healthcheck`).toBeDefined();
    }
    expect(healthcheckText(compose.services.postgres!)).toMatch(/pg_isready/);
    expect(healthcheckText(compose.services.redis!)).toMatch(/redis-cli\s+ping/);
  });

  it('only runs the one-shot commands once and restarts the long-running ones', () => {
    const oneShotCommands = new Set(['migrate', 'seed']);
    for (const [name, service] of appServices) {
      const oneShotCommand = oneShotCommands.has(argv(service.command)[0]!);
      expect(isOneShot(service), `${name}: restart "no" iff one-shot`).toBe(oneShotCommand);
      if (!oneShotCommand) expect(service.restart, name).toMatch(/^(always|unless-stopped|on-failure)/);
    }
  });

  it('uses depends_on conditions that can be met', () => {
    for (const [name, service] of services) {
      const dependsOn = service.depends_on ?? {};
      expect(Array.isArray(dependsOn), `${name}: use the long form with conditions`).toBe(false);
      for (const [target, { condition }] of Object.entries(dependsOn)) {
        const dependency = compose.services[target];
        expect(dependency, `${name} depends on missing ${target}`).toBeDefined();
        if (condition === 'service_healthy') {
          expect(hasHealthcheck(dependency!), `${name} waits for ${target} to be healthy but it has no healthcheck`).toBe(true);
        } else if (condition === 'service_completed_successfully') {
          expect(isOneShot(dependency!), `${name} waits for ${target} to exit but it restarts`).toBe(true);
        } else {
          expect(condition, `${name} → ${target}`).toBe('service_started');
        }
        // A service outside a profile cannot depend on one inside it.
        for (const profile of dependency!.profiles ?? []) {
          expect(service.profiles ?? [], `${name} depends on ${target} (profile ${profile})`).toContain(profile);
        }
      }
    }
  });

  it('starts the fleet after the migration and once PostgreSQL and Redis are healthy', () => {
    const migrate = appServices.find(([, service]) => argv(service.command)[0] === 'migrate')![0];
    for (const [name, service] of appServices) {
      if (isOneShot(service)) continue;
      const dependsOn = service.depends_on as Record<string, { condition?: string }>;
      expect(dependsOn[migrate]?.condition, name).toBe('service_completed_successfully');
      expect(dependsOn.postgres?.condition, name).toBe('service_healthy');
      if (serviceEnv(service).REDIS_URL !== undefined) expect(dependsOn.redis?.condition, name).toBe('service_healthy');
    }
  });

  it('runs two worker replicas', () => {
    const workers = appServices.filter(([, service]) => argv(service.command)[0] === 'worker');
    expect(workers).toHaveLength(1);
    const [, worker] = workers[0]!;
    expect(worker.deploy?.replicas).toBe(2);
    expect(worker.container_name, 'a fixed container name allows one replica').toBeUndefined();
  });

  it('runs Redis with AOF on and noeviction', () => {
    const args = argv(compose.services.redis!.command);
    expect(args[0]).toBe('redis-server');
    expect(optionValue(args, 'appendonly')).toBe('yes');
    expect(optionValue(args, 'maxmemory-policy')).toBe('noeviction');
  });
});

describe('Dockerfile', () => {
  const tsconfig = JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string; rootDir: string } };
  const tsconfigBuild = JSON.parse(read('tsconfig.build.json')) as {
    extends?: string;
    include: string[];
    compilerOptions?: { outDir?: string; rootDir?: string };
  };
  const packageJson = JSON.parse(read('package.json')) as {
    name: string;
    type?: string;
    bin: Record<string, string>;
    exports: Record<string, { import?: string }>;
  };
  const outDir = tsconfigBuild.compilerOptions?.outDir ?? tsconfig.compilerOptions.outDir;
  const rootDir = tsconfigBuild.compilerOptions?.rootDir ?? tsconfig.compilerOptions.rootDir;
  /** Where tsc -p tsconfig.build.json puts the compiled form of a source file. */
  const compiled = (source: string) =>
    path.posix.join(outDir, path.posix.relative(rootDir, source)).replace(/\.ts$/, '.js');
  /** Where the runtime stage puts the build stage's output folder. */
  const distCopy = runtime.instructions.find(
    (instruction) => instruction.keyword === 'COPY' && instruction.flags.from && instruction.words[0]!.endsWith(`/${outDir}`),
  );
  const imageDist = distCopy && resolveInStage(runtime, distCopy, distCopy.words.at(-1)!);
  /** The container path of a compiled file. */
  const inImageDist = (source: string) => path.posix.join(imageDist!, path.posix.relative(outDir, compiled(source)));

  it('is multi-stage on node:20-bookworm-slim', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    const names = new Set<string>();
    for (const stage of dockerfile.stages) {
      expect(names.has(stage.from) || stage.from.startsWith('node:20-bookworm-slim'), stage.from).toBe(true);
      if (stage.name) names.add(stage.name);
    }
  });

  it('builds with npm ci and npm run build, and ships production dependencies only', () => {
    const runs = (stage: DockerStage) =>
      stage.instructions.filter((instruction) => instruction.keyword === 'RUN').map((instruction) => instruction.args);
    const buildStages = dockerfile.stages.slice(0, -1);
    expect(buildStages.flatMap(runs).some((run) => /\bnpm ci\b/.test(run))).toBe(true);
    expect(buildStages.flatMap(runs).some((run) => /\bnpm run build\b/.test(run))).toBe(true);
    expect(runs(runtime).some((run) => /\bnpm ci\b.*--omit=dev/.test(run))).toBe(true);
    expect(runs(runtime).some((run) => /\bnpm run build\b|\btsc\b/.test(run))).toBe(false);
  });

  it('runs as a non-root user', () => {
    const users = runtimeInstructions('USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)!.words[0]).not.toMatch(/^(root|0)(:|$)/);
  });

  it("starts node on the package's bin, which runs the compiled CLI; by default the dashboard on all interfaces", () => {
    const bin = packageJson.bin.mvfleet!;
    const entrypoint = runtimeInstructions('ENTRYPOINT').at(-1)!;
    expect(entrypoint.json).toBe(true);
    expect(entrypoint.words).toEqual(['node', bin]);
    const imageBin = path.posix.resolve(workdir(runtime), bin);
    expect(contextPathOf(imageBin), `the image ships ${bin} at ${imageBin}`).toBe(bin);

    // The bin runs src/cli/run.ts when it sits next to it (a clone), else the compiled form.
    const targets = [...read(bin).matchAll(/new URL\('([^']+)', import\.meta\.url\)/g)].map((match) => match[1]!);
    const fromBin = (target: string) => path.posix.resolve(path.posix.dirname(imageBin), target);
    const sourceEntry = targets.find((target) => target.endsWith('.ts'));
    const compiledEntry = targets.find((target) => target.endsWith('.js'));
    expect(sourceEntry && path.posix.relative(path.posix.dirname(bin), 'src/cli/run.ts')).toBe(sourceEntry);
    expect(existsSync(path.join(root, 'src/cli/run.ts'))).toBe(true);
    expect(contextPathOf(fromBin(sourceEntry!)), 'with sources in the image, the bin would not run dist/').toBeUndefined();
    expect(distCopy, `COPY --from=<build> …/${outDir}`).toBeDefined();
    expect(compiledEntry && fromBin(compiledEntry)).toBe(inImageDist('src/cli/run.ts'));

    const command = runtimeInstructions('CMD').at(-1)!;
    expect(command.json).toBe(true);
    expect(commandByName.has(command.words[0]!), command.words.join(' ')).toBe(true);
    expect(unknownFlags(command.words)).toEqual([]);
    if (command.words[0] === 'dashboard') expect(optionValue(command.words, 'host')).toMatch(/^(0\.0\.0\.0|::)$/);
  });

  it("ships package.json in the working directory, whose exports resolve the app's 'mvfleet' imports to dist/", () => {
    expect(imageDist, `COPY --from=<build> …/${outDir}`).toBeDefined();
    expect(contextPathOf(path.posix.join(workdir(runtime), 'package.json'))).toBe('package.json');
    expect(packageJson.name).toBe('mvfleet');
    expect(packageJson.type, 'dist/**/*.js are ES modules').toBe('module');
    const entry = packageJson.exports['.']?.import;
    expect(entry && path.posix.resolve(workdir(runtime), entry)).toBe(inImageDist('src/index.ts'));
  });

  it('ships the app: the config the CLI finds in the working directory, and the migrations folder it names', () => {
    expect(imageConfigSource, `no mvfleet config in ${workdir(runtime)} (or MVFLEET_CONFIG) in the image`).toBeDefined();
    expect(appConfig?.views.length).toBeGreaterThan(0);
    // The config names its folder by absolute path, found from its own file: the image keeps the layout.
    const migrations = path.relative(root, appConfig!.migrations!);
    expect(contextPathOf(path.posix.join(workdir(runtime), migrations)), `${migrations} in the image`).toBe(migrations);
    expect(existsSync(path.join(root, migrations, 'meta/_journal.json'))).toBe(true);
  });

  it('checks /healthz with node on the port the image listens on', () => {
    const healthchecks = runtimeInstructions('HEALTHCHECK');
    expect(healthchecks).toHaveLength(1);
    const text = healthchecks[0]!.args;
    expect(text).toMatch(/\bCMD\b/);
    expect(text).toContain('/healthz');
    expect(text).toMatch(/\bnode\b/);
    expect(text).not.toMatch(/\b(curl|wget)\b/);
    // Either follows PORT or names the port the image exposes.
    const port = imageEnv.PORT ?? String(loadEnv({}).PORT);
    if (!text.includes('process.env.PORT')) expect(urlPorts(text).map(String)).toEqual([port]);
    const exposed = runtimeInstructions('EXPOSE').flatMap((instruction) => instruction.words.map((word) => word.split('/')[0]));
    expect(exposed).toContain(port);
  });

  it('copies only files that exist and that .dockerignore lets into the context', () => {
    expect(localCopies.length).toBeGreaterThan(0);
    for (const { sources } of localCopies) {
      for (const source of sources) {
        expect(existsSync(path.join(root, source)), `COPY ${source}: missing from the repo`).toBe(true);
        expect(isDockerIgnored(dockerignore, source), `COPY ${source}: excluded by .dockerignore`).toBe(false);
      }
    }
    for (const secret of ['.env', '.git', 'node_modules', '.mvfleet', 'dist']) {
      expect(isDockerIgnored(dockerignore, secret), `${secret} stays out of the build context`).toBe(true);
    }
  });

  it('copies every source folder tsconfig.build.json compiles into the build', () => {
    const copied = new Set(localCopies.flatMap(({ sources }) => sources.map((source) => source.replace(/\/+$/, ''))));
    const included = tsconfigBuild.include.filter((entry) => existsSync(path.join(root, entry)));
    expect(included.filter((entry) => !copied.has(entry))).toEqual([]);
    for (const config of ['tsconfig.json', 'tsconfig.build.json']) expect(copied).toContain(config);
  });
});

describe("the image's files, assembled on the host from the Dockerfile", () => {
  const db = useTestDatabase({ empty: true, max: 1 });
  let into: string | undefined;
  afterAll(async () => {
    if (into) await rm(into, { recursive: true, force: true });
  });

  it('run the example app with production dependencies only: migrate builds its database, help lists its commands', async () => {
    into = await mkdtemp(path.join(tmpdir(), 'mvfleet-image-'));
    // A node_modules above the image's folders would be found; in a container there is none.
    for (let dir = into; dir !== path.dirname(dir); dir = path.dirname(dir)) {
      expect(existsSync(path.join(dir, 'node_modules')), `${dir}/node_modules`).toBe(false);
    }
    const stages = await assembleStages(dockerfile, { context: root, dockerignore, into, run: reproduceNpmRun(root) });
    const image = stages.at(-1)!;
    const cwd = hostPath(image, '.');
    expect(existsSync(path.join(cwd, 'src')), 'the runtime holds no sources').toBe(false);

    const [program, ...entry] = runtimeInstructions('ENTRYPOINT').at(-1)!.words;
    expect(program).toBe('node');
    const env = { ...minimalChildEnv(), LOG_LEVEL: 'silent', ...imageEnv, DATABASE_URL: db.url };
    const run = (args: string[]) => execFileAsync(process.execPath, [...entry, ...args], { cwd, env, timeout: 60_000 });

    const migrate = await run(['migrate']);
    expect(migrate.stdout).toMatch(/^migrate: mvfleet schema \w+: applied engine 0001 .*; applied 0000_init, /);
    const viewNames = createCatalog(appConfig!).views.map((view) => view.name);
    const missing = await db.sql`SELECT name FROM unnest(${viewNames}::text[]) AS v(name) WHERE to_regclass(quote_ident(name)) IS NULL`;
    expect(missing, 'catalog views the image did not create').toEqual([]);

    const help = await run(['help']);
    expect(help.stdout).toContain(`Config: ${hostPath(image, imageConfigPath!)}`);
    for (const command of allCommands) expect(help.stdout).toContain(`mvfleet ${command.usage}`);
  }, 180_000);
});
