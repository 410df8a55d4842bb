import { once } from 'node:events';
import { connectionsNeeded } from '../../workers/refresh-worker.js';
import { parseCommandArgs, parseIntegerOption } from '../args.js';
import type { Command } from '../../config/define-config.js';
import { startWorker } from '../../fleet/start-fleet.js';
import { logCheckFindings } from '../../check/log-findings.js';

export const workerCommand: Command = {
  name: 'worker',
  summary: 'Run refresh jobs (one refresh per view at a time across the fleet)',
  usage: 'worker [--concurrency N]',
  async run(args, context) {
    const { values } = parseCommandArgs(args, { concurrency: { type: 'string' } });
    const { catalog, config } = await context.config();
    const concurrency = parseIntegerOption('concurrency', values.concurrency, { min: 1, max: 64 }) ?? config.worker?.concurrency ?? 2;
    await using db = await context.connectDatabase('mvfleet-worker', { max: connectionsNeeded(concurrency) + 1 });
    const backend = await context.connectQueue('worker');
    try {
      // Before taking jobs, while the pool is idle: what `mvfleet check` would report, as warnings.
      await logCheckFindings({ sql: db.sql, catalog, logger: context.logger });
      const worker = await startWorker({ sql: db.sql, backend, catalog, logger: context.logger }, { concurrency });
      if (!context.signal.aborted) await once(context.signal, 'abort');
      context.logger.info('worker stopping: finishing running refreshes');
      await worker.close();
      context.logger.info('worker stopped');
    } finally {
      await backend.close();
    }
    return 0;
  },
};
