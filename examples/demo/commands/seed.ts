import { isInteractive } from '../../../src/config/env.js';
import { UsageError } from '../../../src/core/errors.js';
import { demoCatalog } from '../schema/catalog.js';
import { seedDemo } from '../seed/index.js';
import { createProgressReporter } from '../seed/progress.js';
import { SCALES } from '../seed/scales.js';
import { describeOutcome, populateViews } from '../../../src/workers/populate-views.js';
import { parseCommandArgs, parseIntegerOption } from '../../../src/cli/args.js';
import type { Command } from '../../../src/cli/command.js';
import { connectDatabase } from '../../../src/cli/services.js';

export const seedCommand: Command = {
  name: 'seed',
  summary: 'Load deterministic demo data, ANALYZE, and populate every view',
  usage: 'seed [--scale small|medium|large] [--seed N] [--replace]',
  async run(args, context) {
    const { values } = parseCommandArgs(args, {
      scale: { type: 'string', default: 'small' },
      seed: { type: 'string' },
      replace: { type: 'boolean', default: false },
    });
    const scale = values.scale;
    if (!Object.hasOwn(SCALES, scale)) {
      throw new UsageError(`--scale must be one of ${Object.keys(SCALES).join(', ')} (got "${scale}")`);
    }
    const seed = parseIntegerOption('seed', values.seed, { min: 0, max: 2 ** 31 - 1 });

    await using db = await connectDatabase(context, 'mvfleet-seed');
    const progress = createProgressReporter({ stream: context.stdout, interactive: isInteractive() });
    const result = await seedDemo({
      sql: db.sql,
      scale: scale as keyof typeof SCALES,
      ...(seed === undefined ? {} : { seed }),
      replace: values.replace,
      onProgress: progress,
    });
    const total = Object.values(result.rows).reduce((sum, count) => sum + count, 0);
    context.stdout.write(`seed: ${total.toLocaleString('en-US')} rows in ${(result.durationMs / 1000).toFixed(1)} s\n`);

    await populateViews({
      sql: db.sql,
      catalog: demoCatalog,
      triggerDetail: 'seed',
      onView: (outcome) => context.stdout.write(`seed: ${describeOutcome(outcome)}\n`),
    });
    return 0;
  },
};
