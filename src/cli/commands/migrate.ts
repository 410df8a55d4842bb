import { demoCatalog } from '../../../examples/demo/schema/catalog.js';
import { migrate } from '../../migrate/migrate.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../command.js';
import { connectDatabase } from '../services.js';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Apply drizzle-kit migrations and guarantee every catalog view and index exists',
  usage: 'migrate',
  async run(args, context) {
    parseCommandArgs(args, {});
    await using db = await connectDatabase(context);
    const result = await migrate({ sql: db.sql, catalog: demoCatalog, logger: context.logger });
    const changes = [
      result.applied.length > 0 && `applied ${result.applied.join(', ')}`,
      result.droppedDependants.length > 0 && `dropped dependent views ${result.droppedDependants.join(', ')}`,
      result.createdViews.length > 0 && `created views ${result.createdViews.join(', ')}`,
      result.createdIndexes.length > 0 && `created ${result.createdIndexes.length} indexes`,
      result.replacedIndexes.length > 0 && `replaced indexes ${result.replacedIndexes.join(', ')}`,
    ].filter(Boolean);
    context.stdout.write(
      changes.length > 0 ? `migrate: ${changes.join('; ')}\n` : `migrate: ${db.target} is up to date\n`,
    );
    return 0;
  },
};
