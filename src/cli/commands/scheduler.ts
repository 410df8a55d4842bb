import { once } from 'node:events';
import { demoCatalog } from '../../../examples/demo/schema/catalog.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../command.js';
import { startScheduler } from '../fleet-services.js';
import { connectQueueBackend } from '../services.js';

export const schedulerCommand: Command = {
  name: 'scheduler',
  summary: 'Keep one BullMQ job scheduler per scheduled view (safe to run several)',
  usage: 'scheduler',
  async run(args, context) {
    parseCommandArgs(args, {});
    const env = context.env();
    const backend = await connectQueueBackend(context, 'worker');
    try {
      const scheduler = await startScheduler({ env, backend, catalog: demoCatalog, logger: context.logger });
      if (!context.signal.aborted) await once(context.signal, 'abort');
      await scheduler.close();
    } finally {
      await backend.close();
    }
    return 0;
  },
};
