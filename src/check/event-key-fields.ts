import type { Catalog, CatalogView, KeyField } from '../catalog/catalog.js';
import type { CheckFinding } from './check-finding.js';
import { listOf } from './word-list.js';

/** The field names of a zod object schema; null for any other payload schema (nothing to compare). */
function payloadFields(payload: unknown): Set<string> | null {
  const shape = (payload as { shape?: unknown }).shape;
  return shape !== null && typeof shape === 'object' ? new Set(Object.keys(shape)) : null;
}

const fieldOf = (spec: KeyField) => (typeof spec === 'string' ? spec : spec.field);

/**
 * How a keyed view's events find the keys they touch. An event without a `keyed.eventKeys`
 * entry refreshes the whole view. An event whose payload schema lacks a field its entry reads
 * is refused on every emit: the producer reads keys from the parsed payload, and zod drops the
 * fields a schema does not declare.
 */
export function checkEventKeyFields(catalog: Catalog, view: CatalogView): CheckFinding[] {
  const keyed = view.keyed;
  if (!keyed) return [];
  const scope = keyed.scopeKey.map((column) => column.name);
  const findings: CheckFinding[] = [];
  for (const event of view.events) {
    const mapping = Object.hasOwn(keyed.eventKeys, event) ? keyed.eventKeys[event] : undefined;
    if (!mapping) {
      findings.push({
        level: 'warning',
        view: view.name,
        message:
          `event ${event} has no keyed.eventKeys entry, so each one refreshes the whole view: ` +
          `map its payload fields to ${listOf(scope)} to refresh only the keys it touches`,
      });
      continue;
    }
    const fields = payloadFields(catalog.event(event).payload);
    if (!fields) continue;
    const missing = scope.filter((column) => !fields.has(fieldOf(mapping[column]!)));
    if (missing.length === 0) continue;
    const names = missing.map((column) => fieldOf(mapping[column]!));
    findings.push({
      level: 'warning',
      view: view.name,
      message:
        `event ${event} carries no ${listOf(names)} (keyed.eventKeys reads it for ${listOf(missing)}), ` +
        `so every emit of ${event} is refused: add ${listOf(names)} to its payload schema`,
    });
  }
  return findings;
}
