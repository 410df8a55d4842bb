import type { Queryable } from '../core/db.js';
import { engineSchemaVersion } from '../store/engine-migrations.js';
import type { EngineStore } from '../store/engine-schema.js';
import type { CheckFinding } from './check-finding.js';

/** Whether mvfleet's own tables (refresh log, dirty keys, table state) are at the version this mvfleet needs. */
export async function checkEngineSchema(sql: Queryable, store: EngineStore): Promise<CheckFinding[]> {
  const { current, latest } = await engineSchemaVersion(sql, store);
  if (current === 0) {
    return [{ level: 'error', message: `mvfleet's own tables are missing (schema "${store.schema}"): run \`mvfleet migrate\`` }];
  }
  if (current < latest) {
    return [
      {
        level: 'error',
        message: `mvfleet's own tables (schema "${store.schema}") are at migration ${current} of ${latest}: run \`mvfleet migrate\``,
      },
    ];
  }
  if (current > latest) {
    return [
      {
        level: 'warning',
        message: `schema "${store.schema}" was migrated by a newer mvfleet (migration ${current}; this one knows ${latest}): upgrade mvfleet`,
      },
    ];
  }
  return [];
}
