import { type Command, describeOutcome, parseCommandArgs, parseIntegerOption, populateViews, UsageError } from 'mvfleet';
import { seedDemo } from '../seed/index.js';
import { createProgressReporter } from '../seed/progress.js';
import { SCALES } from '../seed/scales.js';

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

    await using db = await context.connectDatabase('mvfleet-seed');
    const progress = createProgressReporter({ stream: context.stdout, interactive: Boolean(process.stdout.isTTY) });
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
      catalog: (await context.config()).catalog,
      triggerDetail: 'seed',
      onView: (outcome) => context.stdout.write(`seed: ${describeOutcome(outcome)}\n`),
    });
    return 0;
  },
};
