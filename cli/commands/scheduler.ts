import { once } from 'node:events';
import { createRefreshQueue } from '../../producers/refresh-queue.js';
import { demoCatalog } from '../../schema/catalog.js';
import { createScheduler } from '../../workers/scheduler.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../command.js';
import { connectRedis } from '../services.js';

export const schedulerCommand: Command = {
  name: 'scheduler',
  summary: 'Keep one BullMQ job scheduler per scheduled view (safe to run several)',
  usage: 'scheduler',
  async run(args, context) {
    parseCommandArgs(args, {});
    const env = context.env();
    const redis = await connectRedis(context, 'worker');
    const queue = createRefreshQueue({ connection: redis, prefix: env.MVFLEET_PREFIX });
    const scheduler = createScheduler({ queue, redis, catalog: demoCatalog, timeZone: env.MVFLEET_TZ, logger: context.logger });
    try {
      const result = await scheduler.sync();
      const next = await scheduler.nextRuns();
      context.logger.info({ ...result, next: Object.fromEntries(next) }, 'scheduler synced');
      const running = scheduler.run();
      if (!context.signal.aborted) await once(context.signal, 'abort');
      await scheduler.close();
      await running;
    } finally {
      await queue.close();
      redis.disconnect();
    }
    return 0;
  },
};
