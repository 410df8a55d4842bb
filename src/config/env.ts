import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseRedisUrl } from '../queue/redis-url.js';

/**
 * The only module that reads `process.env`. Everything else receives a parsed `Env`
 * (or plain options) from its caller.
 */

const postgresUrl = z
  .string()
  .url()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), 'must start with postgres:// or postgresql://');

/** One server, a cluster's seed nodes or a Sentinel group: see `parseRedisUrl`. */
const redisUrl = z.string().superRefine((value, context) => {
  try {
    parseRedisUrl(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);

const envSchema = z.object({
  DATABASE_URL: z.preprocess(emptyAsUndefined, postgresUrl.optional()),
  REDIS_URL: z.preprocess(emptyAsUndefined, redisUrl.optional()),
  MVFLEET_PREFIX: z.preprocess(emptyAsUndefined, z.string().min(1).default('{mvfleet}')),
  MVFLEET_DASHBOARD_TOKEN: z.preprocess(
    emptyAsUndefined,
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  /** Host names the dashboard answers to, comma-separated; replaces the config's `dashboard.allowedHosts`. */
  MVFLEET_DASHBOARD_ALLOWED_HOSTS: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .transform((value) => value.split(',').map((host) => host.trim()).filter(Boolean))
      .refine((hosts) => hosts.length > 0, 'must list at least one host name')
      .optional(),
  ),
  PORT: z.preprocess(
    emptyAsUndefined,
    z.coerce.number().int().min(1).max(65535).default(3000),
  ),
  LOG_LEVEL: z.preprocess(
    emptyAsUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  /** Where the queue lives; unset: Redis when REDIS_URL is set, else PostgreSQL (DATABASE_URL). */
  MVFLEET_QUEUE_BACKEND: z.preprocess(emptyAsUndefined, z.enum(['redis', 'postgres']).optional()),
  /** Path of the config file when it is not `mvfleet.config.{ts,mts,js,mjs}` in the working directory. */
  MVFLEET_CONFIG: z.preprocess(emptyAsUndefined, z.string().optional()),
  MVFLEET_TZ: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris')
      .default('UTC'),
  ),
});

/** Validated process configuration. */
export type Env = z.infer<typeof envSchema>;

/** Every environment variable mvfleet reads (deployment files are checked against this list). */
export const ENV_KEYS = Object.keys(envSchema.shape) as (keyof Env)[];

const testEnvSchema = z.object({
  TEST_DATABASE_URL: z.preprocess(emptyAsUndefined, postgresUrl.optional()),
  TEST_REDIS_URL: z.preprocess(emptyAsUndefined, redisUrl.optional()),
  /**
   * Queue backend the engine and trigger suites run on (CI runs them on each): `cluster` is
   * a three-master Redis Cluster the test run starts itself.
   */
  TEST_QUEUE_BACKEND: z.preprocess(emptyAsUndefined, z.enum(['redis', 'postgres', 'cluster']).default('redis')),
  /** Set by CI: any fallback (testcontainers, embedded services) is then an error, not a skip. */
  CI: z.preprocess(emptyAsUndefined, z.string().optional()),
});

/** Configuration of the test harness. */
export type TestEnv = z.infer<typeof testEnvSchema>;

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function parse<T extends z.ZodType>(schema: T, source: Record<string, string | undefined>): z.infer<T> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
  throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
}

/** Parses and validates the environment, listing every problem in one error. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  return parse(envSchema, source);
}

/** Parses the test harness's environment variables. */
export function loadTestEnv(source: Record<string, string | undefined> = process.env): TestEnv {
  return parse(testEnvSchema, source);
}

/** Whether stdout is an interactive terminal (progress bars, colours). */
export function isInteractive(): boolean {
  return Boolean(process.stdout.isTTY);
}

/** PATH and HOME only: the environment a test gives the processes it spawns, so nothing else leaks in. */
export function minimalChildEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
}
