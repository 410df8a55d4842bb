import { once } from 'node:events';
import { migrate } from '../../migrate/migrate.js';
import { requestRefresh } from '../../queue/request-refresh.js';
import { createRefreshQueue } from '../../queue/refresh-queue.js';
import { readViewStatuses } from '../../dashboards/view-status.js';
import { connectionsNeeded } from '../../workers/refresh-worker.js';
import { parseCommandArgs, parseIntegerOption } from '../args.js';
import { dashboardSettings } from '../services.js';
import type { Command } from '../../config/define-config.js';
import { startFleet } from '../../fleet/start-fleet.js';
import { logCheckFindings } from '../../check/log-findings.js';

export const upCommand: Command = {
  name: 'up',
  summary: 'Migrate, then run worker, scheduler and dashboard in one process (small installs, demos)',
  usage: 'up [--port N] [--host H] [--concurrency N]',
  async run(args, context) {
    const { values } = parseCommandArgs(args, {
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      concurrency: { type: 'string' },
    });
    const env = context.env();
    const { catalog, config, migrationsFolder } = await context.config();
    const port = parseIntegerOption('port', values.port, { min: 0, max: 65_535 }) ?? env.PORT;
    const concurrency = parseIntegerOption('concurrency', values.concurrency, { min: 1, max: 64 }) ?? config.worker?.concurrency ?? 2;
    // The worker's connections plus a few for the dashboard, the scheduler and reads.
    await using db = await context.connectDatabase('mvfleet-up', { max: connectionsNeeded(concurrency) + 6 });
    const backend = await context.connectQueue('worker');
    try {
      const migrated = await migrate({ sql: db.sql, catalog, migrationsFolder, logger: context.logger });
      context.logger.info({ applied: migrated.applied, createdViews: migrated.createdViews }, 'migrated');
      await logCheckFindings({ sql: db.sql, catalog, logger: context.logger });
      const fleet = await startFleet(
        { sql: db.sql, backend, catalog, logger: context.logger },
        { concurrency, ...dashboardSettings(env, config, { port, host: values.host }) },
      );
      try {
        // Views migrate created are empty until their first refresh: ask for it now, not at the next schedule.
        const queue = createRefreshQueue(backend);
        try {
          const requestedAt = new Date().toISOString();
          for (const status of await readViewStatuses(db.sql, catalog)) {
            if (!status.populated) {
              await requestRefresh(
                { sql: db.sql, queue, catalog },
                { view: status.view, reason: 'manual', triggerDetail: 'up: not populated', requestedAt },
              );
            }
          }
        } finally {
          await queue.close();
        }
        context.stdout.write(`mvfleet up: dashboard ${fleet.url} (queue: ${backend.target})\n`);
        if (!context.signal.aborted) await once(context.signal, 'abort');
      } finally {
        await fleet.close();
      }
    } finally {
      await backend.close();
    }
    return 0;
  },
};
