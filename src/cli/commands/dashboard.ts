import { once } from 'node:events';
import { demoCatalog } from '../../../examples/demo/schema/catalog.js';
import { parseCommandArgs, parseIntegerOption } from '../args.js';
import type { Command } from '../command.js';
import { startDashboard } from '../fleet-services.js';
import { connectDatabase, connectQueueBackend } from '../services.js';

export const dashboardCommand: Command = {
  name: 'dashboard',
  summary: 'Serve the freshness page, JSON API, Bull Board and /metrics (127.0.0.1 unless --host)',
  usage: 'dashboard [--port N] [--host H]',
  async run(args, context) {
    const { values } = parseCommandArgs(args, { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } });
    const env = context.env();
    const port = parseIntegerOption('port', values.port, { min: 0, max: 65_535 }) ?? env.PORT;
    await using db = await connectDatabase(context, 'mvfleet-dashboard');
    const backend = await connectQueueBackend(context, 'producer');
    try {
      const dashboard = await startDashboard({ env, db, backend, catalog: demoCatalog, logger: context.logger }, { port, host: values.host });
      context.stdout.write(`mvfleet dashboard: ${dashboard.url}\n`);
      if (!context.signal.aborted) await once(context.signal, 'abort');
      context.logger.info('dashboard stopping');
      await dashboard.close();
    } finally {
      await backend.close();
    }
    context.logger.info('dashboard stopped');
    return 0;
  },
};
