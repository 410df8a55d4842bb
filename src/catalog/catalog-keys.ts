import type { SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { ViewDefinition } from './catalog.js';
import { keySetScope, render, type KeyColumn, type KeyScope } from './key-scope.js';

/**
 * Keyed views in the catalog: how a view declares the keys its events touch, and how that
 * declaration is checked and rendered into the key-restricted definition.
 */

/**
 * Where a scope key column's value is in an event's payload: the field's name, or the
 * field and a conversion (e.g. a payment date to the first day of its month).
 */
export type KeyField = string | { field: string; convert: (value: unknown) => unknown };

/** A view whose rows can be recomputed for a set of keys (a targeted refresh). */
export interface KeyedDefinition {
  /** Columns of the unique key that scope a targeted refresh (e.g. `tournament_id`). */
  scopeKey: readonly string[];
  /**
   * The view's defining query, written once over a {@link KeyScope}: the whole view for full
   * rebuilds and live lists, a set of keys for targeted refreshes and live key reads. Each
   * child aggregate should restrict itself with `keys.match(column, expression)` so that
   * the key-restricted form reads the source tables through their indexes.
   */
  query: (keys: KeyScope) => SQL;
  /**
   * For the view's events that touch known keys: each scope key column's payload field.
   * An event listed here must carry them (else it is refused, nothing enqueued); the view's
   * other events refresh the whole view.
   */
  eventKeys: Readonly<Record<string, Readonly<Record<string, KeyField>>>>;
  /**
   * A refresh whose dirty keys exceed this share of the view's rows rebuilds the whole view
   * instead (still without blocking readers).
   * @defaultValue 0.2
   */
  fullRebuildShare?: number;
}

/** A keyed view's key machinery, resolved. */
export interface CatalogKeys {
  /** Scope key columns with their SQL types, in key order. */
  scopeKey: readonly KeyColumn[];
  /** The defining SELECT restricted to a set of keys: `$1 … $n` are arrays, one per scope key column. */
  keyedSql: string;
  /**
   * The defining SELECT restricted to a set of partial keys whose `present` columns are
   * given (`$1 …` are their arrays, in key order); the others are unrestricted. Rendered once
   * per shape.
   */
  keyedSqlFor: (present: readonly boolean[]) => string;
  eventKeys: Readonly<Record<string, Readonly<Record<string, KeyField>>>>;
  fullRebuildShare: number;
}

export const keyedDefaults = { fullRebuildShare: 0.2 } satisfies Partial<KeyedDefinition>;

/** Types whose values have one canonical JSON form (core/event-keys.ts), so a key compares equal wherever it is recorded. */
const SCOPE_KEY_TYPES = /^(smallint|integer|bigint|date|text)$/;

/**
 * Checks a view's `keyed` declaration (pushing problems onto `problems`) and renders its
 * key-restricted definition; null for a view that is not keyed or has problems.
 */
export function resolveKeys(name: string, definition: ViewDefinition, fields: PgColumn[], problems: string[]): CatalogKeys | null {
  const keyed = definition.keyed;
  if (!keyed) return null;
  const scopeKey: KeyColumn[] = [];
  if (keyed.scopeKey.length === 0) problems.push('keyed.scopeKey must name at least one column');
  for (const column of keyed.scopeKey) {
    const field = fields.find((candidate) => candidate.name === column);
    if (!definition.uniqueKey.includes(column)) problems.push(`keyed.scopeKey column ${column} is not in uniqueKey`);
    else if (field && !SCOPE_KEY_TYPES.test(field.getSQLType())) {
      problems.push(`keyed.scopeKey column ${column} is ${field.getSQLType()}; scope keys are smallint, integer, bigint, date or text`);
    } else if (field) scopeKey.push({ name: column, sqlType: field.getSQLType() });
  }
  for (const [event, fieldsByColumn] of Object.entries(keyed.eventKeys)) {
    if (!(definition.events ?? []).includes(event)) problems.push(`keyed.eventKeys: ${event} is not one of the view's events`);
    const mapped = Object.keys(fieldsByColumn);
    if (mapped.length !== keyed.scopeKey.length || !keyed.scopeKey.every((column) => mapped.includes(column))) {
      problems.push(`keyed.eventKeys.${event} must map exactly the scope key columns (${keyed.scopeKey.join(', ')})`);
    }
  }
  const fullRebuildShare = keyed.fullRebuildShare ?? keyedDefaults.fullRebuildShare;
  if (!(fullRebuildShare >= 0 && fullRebuildShare <= 1)) {
    problems.push(`keyed.fullRebuildShare must be between 0 and 1 (got ${fullRebuildShare})`);
  }
  if (problems.length > 0) return null;
  let keyedSql = '';
  try {
    keyedSql = render(keyed.query(keySetScope(name, scopeKey)));
  } catch (error) {
    problems.push((error as Error).message);
  }
  const byShape = new Map<string, string>();
  const keyedSqlFor = (present: readonly boolean[]): string => {
    if (present.every(Boolean)) return keyedSql;
    const shape = present.map((column) => (column ? '1' : '0')).join('');
    let text = byShape.get(shape);
    if (text === undefined) byShape.set(shape, (text = render(keyed.query(keySetScope(name, scopeKey, present)))));
    return text;
  };
  return { scopeKey, keyedSql, keyedSqlFor, eventKeys: keyed.eventKeys, fullRebuildShare };
}
