import { once } from 'node:events';
import { createDashboard } from '../../dashboards/index.js';
import { createRefreshQueue } from '../../producers/refresh-queue.js';
import { demoCatalog } from '../../schema/catalog.js';
import { createScheduler } from '../../workers/scheduler.js';
import { parseCommandArgs, parseIntegerOption } from '../args.js';
import type { Command } from '../command.js';
import { connectDatabase, connectRedis } from '../services.js';

export const dashboardCommand: Command = {
  name: 'dashboard',
  summary: 'Serve the freshness page, JSON API, Bull Board and /metrics (127.0.0.1 unless --host)',
  usage: 'dashboard [--port N] [--host H]',
  async run(args, context) {
    const { values } = parseCommandArgs(args, { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } });
    const env = context.env();
    const port = parseIntegerOption('port', values.port, { min: 0, max: 65_535 }) ?? env.PORT;
    await using db = await connectDatabase(context, 'mvfleet-dashboard');
    const redis = await connectRedis(context, 'producer');
    const queue = createRefreshQueue({ connection: redis, prefix: env.MVFLEET_PREFIX });
    // Only read from: nextRuns() lists the job schedulers; this process never syncs or runs them.
    const schedules = createScheduler({ queue, redis, catalog: demoCatalog, timeZone: env.MVFLEET_TZ });
    try {
      await using dashboard = createDashboard({
        sql: db.sql,
        catalog: demoCatalog,
        queue,
        token: env.MVFLEET_DASHBOARD_TOKEN,
        logger: context.logger,
        nextRuns: () => schedules.nextRuns(),
      });
      const listener = await dashboard.listen(port, values.host);
      context.logger.info(
        { url: listener.url, writes: env.MVFLEET_DASHBOARD_TOKEN ? 'enabled (bearer token)' : 'disabled: set MVFLEET_DASHBOARD_TOKEN' },
        'dashboard started',
      );
      context.stdout.write(`mvfleet dashboard: ${listener.url}\n`);
      if (!context.signal.aborted) await once(context.signal, 'abort');
      context.logger.info('dashboard stopping');
    } finally {
      await queue.close();
      redis.disconnect();
    }
    context.logger.info('dashboard stopped');
    return 0;
  },
};
