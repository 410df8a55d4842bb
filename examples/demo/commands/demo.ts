import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Command, connectionsNeeded, createDb, createPostgresQueueBackend, createRedisQueueBackend, type DbHandle, describeOutcome, migrate, parseCommandArgs, parseIntegerOption, populateViews, type QueueBackend, startFleet } from 'mvfleet';
import { createDemoProducer } from '../producer.js';
import { seedDemo } from '../seed/index.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../run/embedded-postgres.js';
import { startEventTrickle } from '../run/event-trickle.js';
import { freePort } from '../run/free-port.js';
import { claimInstance } from '../run/instance-lock.js';

const DEMO_CONCURRENCY = 2;

/** The dashboard token of this demo folder: the environment's, else one generated on first run. */
async function demoToken(dir: string, fromEnv: string | undefined): Promise<string> {
  if (fromEnv) return fromEnv;
  const file = path.join(dir, 'token');
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (existing.length >= 16) return existing;
  const token = randomBytes(18).toString('base64url');
  await writeFile(file, token, { mode: 0o600 });
  return token;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Zero-setup showcase: embedded PostgreSQL, demo data, a live fleet and a trickle of events',
  usage: 'demo [--port N] [--event-interval MS]',
  async run(args, context) {
    const { values } = parseCommandArgs(args, { port: { type: 'string' }, 'event-interval': { type: 'string' } });
    const env = context.env();
    const requestedPort = parseIntegerOption('port', values.port, { min: 0, max: 65_535 });
    const intervalMs = parseIntegerOption('event-interval', values['event-interval'], { min: 100, max: 600_000 }) ?? 2_000;
    const { catalog, config, migrationsFolder } = await context.config();
    const say = (line: string) => context.stdout.write(`mvfleet demo: ${line}\n`);
    const dir = path.resolve('.mvfleet');
    const instance = await claimInstance(dir);

    // Each resource is stopped in reverse order, whatever failed along the way.
    const cleanups: (() => Promise<unknown>)[] = [() => instance.release()];
    try {
      let databaseUrl = env.DATABASE_URL;
      if (!databaseUrl) {
        const embedded: EmbeddedServer = await startEmbeddedPostgres(dir, say);
        cleanups.push(() => embedded.stop());
        databaseUrl = embedded.url;
        say(`PostgreSQL running from ${path.join(dir, 'pg')}`);
      }
      const db: DbHandle = createDb({ url: databaseUrl, max: connectionsNeeded(DEMO_CONCURRENCY) + 6, applicationName: 'mvfleet-demo' });
      cleanups.push(() => db.close());
      await db.ping();
      const backend: QueueBackend = env.REDIS_URL
        ? createRedisQueueBackend({ url: env.REDIS_URL, prefix: env.MVFLEET_PREFIX })
        : createPostgresQueueBackend({ url: databaseUrl });
      cleanups.push(() => backend.close());
      await backend.ping();

      await migrate({ sql: db.sql, catalog, migrationsFolder, logger: context.logger });
      const [{ tournaments }] = await db.sql<[{ tournaments: number }]>`SELECT count(*)::int AS tournaments FROM tournaments`;
      if (tournaments === 0) {
        say('loading demo data (scale small)');
        await seedDemo({ sql: db.sql, scale: 'small' });
        await populateViews({ sql: db.sql, catalog, triggerDetail: 'demo', onView: (o) => say(describeOutcome(o)) });
      } else {
        say(`reusing the demo data in ${dir} (${tournaments} tournaments)`);
      }

      const token = await demoToken(dir, env.MVFLEET_DASHBOARD_TOKEN);
      const port = requestedPort ?? (await freePort(env.PORT));
      const fleet = await startFleet(
        { sql: db.sql, backend, catalog, logger: context.logger },
        { concurrency: DEMO_CONCURRENCY, port, host: '127.0.0.1', token, timeZone: env.MVFLEET_TZ, routes: config.dashboard?.routes },
      );
      cleanups.push(() => fleet.close());
      const producer = createDemoProducer({ backend, sql: db.sql, catalog });
      cleanups.push(() => producer.close());
      const trickle = startEventTrickle({ sql: db.sql, fleet: producer, logger: context.logger, intervalMs });
      cleanups.push(() => trickle.stop());

      say(`dashboard  ${fleet.url}/`);
      say(`token      ${token}   (refresh buttons and Bull Board actions ask for it)`);
      say(`queue      ${backend.target}; an application event every ${intervalMs} ms`);
      say('press Ctrl-C to stop');
      if (!context.signal.aborted) await once(context.signal, 'abort');
      say('stopping');
    } finally {
      const failures: unknown[] = [];
      for (const cleanup of cleanups.reverse()) {
        await cleanup().catch((error: unknown) => failures.push(error));
      }
      if (failures.length > 0) context.logger.warn({ failures: failures.map(String) }, 'some parts did not stop cleanly');
    }
    say('stopped');
    return 0;
  },
};
