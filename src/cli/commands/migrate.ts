import { migrate } from '../../migrate/migrate.js';
import { parseCommandArgs } from '../args.js';
import type { Command } from '../../config/define-config.js';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: "Create or upgrade mvfleet's schema, apply the app's migrations (if configured), guarantee views and indexes",
  usage: 'migrate',
  async run(args, context) {
    parseCommandArgs(args, {});
    const { catalog, migrationsFolder } = await context.config();
    await using db = await context.connectDatabase();
    const result = await migrate({ sql: db.sql, catalog, migrationsFolder, logger: context.logger });
    const changes = [
      result.engineApplied.length > 0 && `mvfleet schema ${catalog.store.schema}: applied ${result.engineApplied.join(', ')}`,
      result.applied.length > 0 && `applied ${result.applied.join(', ')}`,
      result.droppedDependants.length > 0 && `dropped dependent views ${result.droppedDependants.join(', ')}`,
      result.createdViews.length > 0 && `created views ${result.createdViews.join(', ')}`,
      result.createdIndexes.length > 0 && `created ${result.createdIndexes.length} indexes`,
      result.replacedIndexes.length > 0 && `replaced indexes ${result.replacedIndexes.join(', ')}`,
      result.capture.installed.length > 0 && `capture triggers for ${result.capture.installed.join(', ')}`,
      result.capture.removed.length > 0 && `removed capture triggers ${result.capture.removed.join(', ')}`,
    ].filter(Boolean);
    context.stdout.write(
      changes.length > 0 ? `migrate: ${changes.join('; ')}\n` : `migrate: ${db.target} is up to date\n`,
    );
    return 0;
  },
};
