import type { TestProject } from 'vitest/node';
import { createDb } from '../src/core/db.js';
import { loadTestEnv } from '../src/config/env.js';
import { migrate } from '../src/migrate/migrate.js';
import { demoCatalogWithoutCapture, demoMigrationsFolder } from './helpers/catalog.js';
import { databaseUrl, dropStaleTestDatabases, RUN_PREFIX } from './helpers/database-names.js';
import { startRedisCluster, type TestRedisCluster } from './helpers/redis-cluster.js';
import { resolvePostgres, resolveRedis } from './helpers/services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Maintenance database URL of the test PostgreSQL server. */
    postgresUrl: string;
    /** Migrated database every test file clones. */
    templateDatabase: string;
    redisUrl: string;
    /** `redis+cluster://…` of the cluster this run started (TEST_QUEUE_BACKEND=cluster), else ''. */
    redisClusterUrl: string;
  }
}

/**
 * Starts (or finds) PostgreSQL and Redis once for the whole run and migrates a template
 * database that each test file clones (CREATE DATABASE … TEMPLATE is a file copy: fast).
 */
export default async function setup(project: TestProject) {
  const env = loadTestEnv();
  const underCi = Boolean(env.CI);
  const [postgres, redis, cluster] = await Promise.all([
    resolvePostgres(env.TEST_DATABASE_URL, underCi),
    resolveRedis(env.TEST_REDIS_URL, underCi),
    env.TEST_QUEUE_BACKEND === 'cluster' ? startRedisCluster() : Promise.resolve<TestRedisCluster | undefined>(undefined),
  ]);
  console.log(`mvfleet tests: PostgreSQL from ${postgres.source}, Redis from ${redis.source}${cluster ? `, Redis Cluster at ${cluster.url}` : ''}`);

  const admin = createDb({ url: postgres.url, max: 1 });
  await admin.ping();
  await dropStaleTestDatabases(admin.sql);
  const templateDatabase = `${RUN_PREFIX}template`;
  await admin.sql.unsafe(`CREATE DATABASE "${templateDatabase}"`);

  const template = createDb({ url: databaseUrl(postgres.url, templateDatabase), max: 1 });
  await migrate({ sql: template.sql, catalog: demoCatalogWithoutCapture(), migrationsFolder: demoMigrationsFolder });
  await template.close();

  project.provide('postgresUrl', postgres.url);
  project.provide('templateDatabase', templateDatabase);
  project.provide('redisUrl', redis.url);
  project.provide('redisClusterUrl', cluster?.url ?? '');

  return async () => {
    await admin.sql.unsafe(`DROP DATABASE IF EXISTS "${templateDatabase}" WITH (FORCE)`);
    await admin.close();
    await Promise.all([postgres.stop(), redis.stop(), cluster?.stop()]);
  };
}
