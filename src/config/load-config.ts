import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { createCatalog, type Catalog } from '../catalog/catalog.js';
import { ConfigError, oneLine } from '../core/errors.js';
import type { LoadedConfig, MvfleetConfig } from './define-config.js';

export type { LoadedConfig } from './define-config.js';

/** Files looked for in the working directory, in this order. */
export const CONFIG_FILE_NAMES = ['mvfleet.config.ts', 'mvfleet.config.mts', 'mvfleet.config.js', 'mvfleet.config.mjs'] as const;

/** No config file was found; the message names every place looked at. */
export class ConfigNotFoundError extends ConfigError {}

const functionValue = (what: string) => z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', `must be ${what}`);

const configSchema = z.object({
  views: z.array(z.object({ view: z.object({}).passthrough() }).passthrough(), 'must be a list of view definitions'),
  events: z
    .record(
      z.string(),
      z.object({
        description: z.string(),
        payload: z.custom((value) => typeof (value as { safeParse?: unknown })?.safeParse === 'function', 'must be a zod schema'),
      }),
    )
    .optional(),
  schema: z.string().optional(),
  migrations: z.string().min(1).optional(),
  worker: z.object({ concurrency: z.number().int().min(1).max(64).optional() }).strict().optional(),
  dashboard: z
    .object({
      routes: functionValue('a function (app, { reader, logger }) => void').optional(),
      allowedHosts: z.array(z.string().trim().min(1, 'must not be empty')).optional(),
      requireTokenForReads: z.boolean().optional(),
    })
    .strict()
    .optional(),
  commands: z
    .array(
      z.object({
        name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case command name'),
        summary: z.string(),
        usage: z.string(),
        run: functionValue('a function (args, context) => Promise<number>'),
      }),
    )
    .optional(),
}).strict();

/** Where the config is: `explicit` (`--config` or `MVFLEET_CONFIG`), else the first file of {@link CONFIG_FILE_NAMES} in `cwd`. */
export function findConfigFile(options: { explicit?: string | undefined; cwd: string }): string {
  if (options.explicit) {
    const file = path.resolve(options.cwd, options.explicit);
    if (!existsSync(file) || !statSync(file).isFile()) throw new ConfigNotFoundError(`config file ${file} does not exist`);
    return file;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const file = path.join(options.cwd, name);
    if (existsSync(file)) return file;
  }
  throw new ConfigNotFoundError(
    `no mvfleet config found: looked for ${CONFIG_FILE_NAMES.join(', ')} in ${options.cwd} ` +
      '(create one with defineConfig from "mvfleet", or pass --config PATH / set MVFLEET_CONFIG)',
  );
}

async function importConfigModule(file: string): Promise<unknown> {
  const url = pathToFileURL(file).href;
  try {
    return await import(url);
  } catch (error) {
    // A TypeScript config in a process without a TypeScript loader (the `mvfleet` bin
    // registers one): load it through tsx instead.
    if ((error as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    const { tsImport } = await import('tsx/esm/api');
    return tsImport(url, import.meta.url);
  }
}

/**
 * Validates a config object: its shape, then its catalog. Every problem is listed in one
 * {@link ConfigError}.
 */
export function validateConfig(value: unknown, source: string): { config: MvfleetConfig; catalog: Catalog } {
  const problems: string[] = [];
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.') || '(config)'}: ${issue.message}`);
  }
  const config = value as MvfleetConfig;
  let catalog: Catalog | undefined;
  if (Array.isArray(config?.views)) {
    try {
      catalog = createCatalog(config);
    } catch (error) {
      problems.push(...oneCatalogProblemPerLine(error));
    }
  }
  if (problems.length > 0 || !catalog) {
    throw new ConfigError(`invalid config ${source}:\n  - ${problems.join('\n  - ')}`);
  }
  return { config, catalog };
}

function oneCatalogProblemPerLine(error: unknown): string[] {
  const message = (error as Error).message ?? String(error);
  return message
    .replace(/^invalid catalog:\n/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*- /, '').trim())
    .filter(Boolean);
}

/**
 * Finds, imports and validates the config file.
 * @throws ConfigNotFoundError when there is none; ConfigError listing every problem of an invalid one.
 */
export async function loadConfig(options: { explicit?: string | undefined; cwd?: string } = {}): Promise<LoadedConfig> {
  const file = findConfigFile({ explicit: options.explicit, cwd: options.cwd ?? process.cwd() });
  let module: { default?: unknown };
  try {
    module = (await importConfigModule(file)) as { default?: unknown };
  } catch (error) {
    // A .ts file in a package without "type": "module" is compiled as CommonJS, which cannot
    // import mvfleet (an ES module) while the CLI that loads it is running.
    const hint = /\.ts$/.test(file) && /require\(\)/.test(String((error as Error).message))
      ? ' (name it mvfleet.config.mts, or set "type": "module" in package.json)'
      : '';
    throw new ConfigError(`cannot load config ${file}: ${oneLine(error)}${hint}`, { cause: error });
  }
  if (module.default === undefined) {
    throw new ConfigError(`config ${file} has no default export (export default defineConfig({ … }))`);
  }
  const { config, catalog } = validateConfig(module.default, file);
  let migrationsFolder: string | undefined;
  if (config.migrations !== undefined) {
    migrationsFolder = path.resolve(path.dirname(file), config.migrations);
    if (!existsSync(path.join(migrationsFolder, 'meta', '_journal.json'))) {
      throw new ConfigError(`invalid config ${file}:\n  - migrations: ${migrationsFolder} has no meta/_journal.json (a drizzle-kit output folder)`);
    }
  }
  return { path: file, config, catalog, migrationsFolder };
}
