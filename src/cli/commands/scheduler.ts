import { once } from 'node:events';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../../config/define-config.js';
import { startScheduler } from '../../fleet/start-fleet.js';

export const schedulerCommand: Command = {
  name: 'scheduler',
  summary: 'Keep one BullMQ job scheduler per scheduled view (safe to run several)',
  usage: 'scheduler',
  async run(args, context) {
    parseCommandArgs(args, {});
    const { catalog } = await context.config();
    const env = context.env();
    const backend = await context.connectQueue('worker');
    try {
      const scheduler = await startScheduler({ backend, catalog, logger: context.logger }, { timeZone: env.MVFLEET_TZ });
      if (!context.signal.aborted) await once(context.signal, 'abort');
      await scheduler.close();
    } finally {
      await backend.close();
    }
    return 0;
  },
};
