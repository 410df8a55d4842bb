import { Hono } from 'hono';
import type { Queue } from 'bullmq';
import type { Queryable } from '../../core/db.js';
import type { Logger } from '../../core/logger.js';
import { oneLine } from '../../core/errors.js';
import { withTimeout } from '../../core/with-timeout.js';
import { isAuthenticated } from '../access.js';

/** What the health routes need. */
export interface HealthRoutesDeps {
  sql: Queryable;
  queue: Queue;
  /** Each dependency must answer within this many milliseconds. */
  timeoutMs: number;
  logger: Logger;
}

/**
 * Pings the queue's datastore (Redis `PING`), then reads the queue's own keys: a PING alone
 * passes on a cluster node that does not hold them, while every queue command gets MOVED.
 */
async function pingQueue(queue: Queue): Promise<void> {
  const backend = queue.getBackend() as unknown as { client?: Promise<unknown> };
  const client = backend.client ? await backend.client : undefined;
  if (client && typeof (client as { ping?: unknown }).ping === 'function') await (client as { ping(): Promise<unknown> }).ping();
  await queue.getJobCounts('waiting');
}

/**
 * `GET /healthz` (the process answers) and `GET /readyz` (PostgreSQL and the queue backend
 * answer). Probes run without credentials, so a failure's cause (which names hosts and
 * ports) goes to the log and to callers with the token only.
 */
export function healthRoutes({ sql, queue, timeoutMs, logger }: HealthRoutesDeps): Hono {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const detailed = isAuthenticated(c);
    const check = (name: string, work: () => Promise<unknown>) =>
      withTimeout(work(), timeoutMs, name).then(
        () => 'ok',
        (error: unknown) => {
          logger.warn({ err: error, dependency: name }, 'readiness check failed');
          return detailed ? `failed: ${oneLine(error)}` : 'failed (cause in the dashboard log)';
        },
      );
    const [postgres, queueBackend] = await Promise.all([check('postgres', () => sql`select 1`), check('queue', () => pingQueue(queue))]);
    const ready = postgres === 'ok' && queueBackend === 'ok';
    return c.json({ status: ready ? 'ready' : 'unavailable', checks: { postgres, queue: queueBackend } }, ready ? 200 : 503);
  });
  return app;
}
