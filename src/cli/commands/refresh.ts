import { UsageError } from '../../core/errors.js';
import { requestRefresh } from '../../queue/request-refresh.js';
import { createRefreshQueue } from '../../queue/refresh-queue.js';
import { databaseNow, waitForRefresh } from '../../producers/wait-for-refresh.js';
import { refreshStatement } from '../../workers/refresh-sql.js';
import { parseCommandArgs, parseIntegerOption } from '../args.js';
import type { Command } from '../../config/define-config.js';

export const refreshCommand: Command = {
  name: 'refresh',
  summary: 'Enqueue refreshes of views (and the views built on them)',
  usage: 'refresh <view...> | --all [--no-concurrent] [--dry-run] [--wait [--timeout S]] [--reason TEXT]',
  async run(args, context) {
    const { catalog } = await context.config();
    const { values, positionals } = parseCommandArgs(args,
      {
        all: { type: 'boolean', default: false },
        'no-concurrent': { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        wait: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        reason: { type: 'string' },
      },
      true,
    );
    if (values.all && positionals.length > 0) throw new UsageError('give view names or --all, not both');
    if (!values.all && positionals.length === 0) throw new UsageError('name at least one view, or pass --all');
    if (values.reason !== undefined && (values.reason.trim() === '' || values.reason.length > 200)) {
      throw new UsageError('--reason must be 1 to 200 characters');
    }
    if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout only applies with --wait');
    const timeoutSeconds = parseIntegerOption('timeout', values.timeout, { min: 1, max: 86_400 }) ?? 600;
    // Validate every name before enqueueing anything.
    const views = values.all ? catalog.views.map((view) => view.name) : positionals.map((name) => catalog.get(name).name);
    const mode = values['no-concurrent'] ? 'plain' : 'auto';

    if (values['dry-run']) {
      for (const name of views) {
        if (catalog.get(name).storage === 'table') {
          const how = mode === 'plain' ? 'replace every row' : 'rebuild, applying only the rows that differ';
          context.stdout.write(`-- table ${name}: ${how} (readers are not blocked)\n`);
        } else {
          const sqlText = refreshStatement(name, mode === 'plain' ? 'plain' : 'concurrent');
          const note = mode === 'plain' ? '' : '  -- plain instead when unpopulated or without a unique index';
          context.stdout.write(`${sqlText};${note}\n`);
        }
        const cascade = catalog.downstreamOf(name).map((view) => view.name);
        if (cascade.length > 0) context.stdout.write(`  then: ${cascade.join(' -> ')}\n`);
      }
      context.stdout.write('dry run: nothing enqueued\n');
      return 0;
    }

    await using db = await context.connectDatabase();
    const backend = await context.connectQueue('producer');
    const queue = createRefreshQueue(backend);
    try {
      const requestedAt = await databaseNow(db.sql);
      for (const view of views) {
        const { jobId } = await requestRefresh({ sql: db.sql, queue, catalog }, {
          view,
          reason: 'manual',
          triggerDetail: values.reason ?? 'cli',
          requestedAt: requestedAt.toISOString(),
          mode,
        });
        context.stdout.write(`enqueued ${view} (job ${jobId})\n`);
      }
      if (!values.wait) return 0;
      let failed = 0;
      for (const view of views) {
        const result = await waitForRefresh(db.sql, catalog.store, {
          view,
          requestedAt,
          timeoutMs: timeoutSeconds * 1000,
          signal: context.signal,
        });
        if (result.status === 'success') {
          context.stdout.write(`${view}: refreshed (${result.mode}, ${result.durationMs} ms, as of ${result.startedAt.toISOString()})\n`);
        } else {
          failed += 1;
          const code = result.errorCode ? ` [${result.errorCode}]` : '';
          context.stderr.write(`${view}: attempt ${result.attempt} failed${code}: ${result.errorMessage}\n`);
        }
      }
      return failed > 0 ? 1 : 0;
    } finally {
      await queue.close();
      await backend.close();
    }
  },
};
