import { once } from 'node:events';
import { parseCommandArgs, parseIntegerOption } from '../args.js';
import { dashboardSettings } from '../services.js';
import type { Command } from '../../config/define-config.js';
import { startDashboard } from '../../fleet/start-fleet.js';

export const dashboardCommand: Command = {
  name: 'dashboard',
  summary: 'Serve the freshness page, JSON API, Bull Board and /metrics (127.0.0.1 unless --host)',
  usage: 'dashboard [--port N] [--host H]',
  async run(args, context) {
    const { values } = parseCommandArgs(args, { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } });
    const { catalog, config } = await context.config();
    const env = context.env();
    const port = parseIntegerOption('port', values.port, { min: 0, max: 65_535 }) ?? env.PORT;
    await using db = await context.connectDatabase('mvfleet-dashboard');
    const backend = await context.connectQueue('producer');
    try {
      const dashboard = await startDashboard(
        { sql: db.sql, backend, catalog, logger: context.logger },
        dashboardSettings(env, config, { port, host: values.host }),
      );
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
