import { once } from 'node:events';
import { demoCatalog } from '../../schema/catalog.js';
import { createWorker } from '../../workers/refresh-worker.js';
import { parseCommandArgs, parseIntegerOption } from '../args.js';
import type { Command } from '../command.js';
import { connectDatabase, connectRedis } from '../services.js';

export const workerCommand: Command = {
  name: 'worker',
  summary: 'Run refresh jobs (one refresh per view at a time across the fleet)',
  usage: 'worker [--concurrency N]',
  async run(args, context) {
    const { values } = parseCommandArgs(args, { concurrency: { type: 'string' } });
    const concurrency = parseIntegerOption('concurrency', values.concurrency, { min: 1, max: 64 }) ?? 2;
    const env = context.env();
    await using db = await connectDatabase(context, 'mvfleet-worker');
    const redis = await connectRedis(context, 'worker');
    try {
      const worker = createWorker({
        connection: redis,
        prefix: env.MVFLEET_PREFIX,
        sql: db.sql,
        catalog: demoCatalog,
        concurrency,
        logger: context.logger,
      });
      await worker.ready();
      context.logger.info({ workerId: worker.id, concurrency }, 'worker started');
      if (!context.signal.aborted) await once(context.signal, 'abort');
      context.logger.info('worker stopping: finishing running refreshes');
      await worker.close();
      context.logger.info('worker stopped');
    } finally {
      redis.disconnect();
    }
    return 0;
  },
};
