import { DEFAULT_ENGINE_SCHEMA } from './engine-schema.js';
import { dirtyKeysTable, tableStateTable } from './keyed-state.js';
import { refreshLogTable } from './refresh-log.js';

/**
 * mvfleet's tables as Drizzle objects, for apps that query them with Drizzle or list them in
 * their own schema file. mvfleet creates and upgrades them itself (`mvfleet migrate`); point
 * drizzle-kit's `schemaFilter` away from the engine schema so it never tries to.
 *
 * @param schema - the config's `schema`. @defaultValue 'mvfleet'
 */
export function engineTables(schema: string = DEFAULT_ENGINE_SCHEMA) {
  return {
    mvRefreshLog: refreshLogTable(schema),
    mvDirtyKeys: dirtyKeysTable(schema),
    mvTableState: tableStateTable(schema),
  };
}

/** The engine's tables in the default schema `mvfleet`. */
export const { mvRefreshLog, mvDirtyKeys, mvTableState } = engineTables();
