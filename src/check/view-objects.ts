import type { Catalog, CatalogView, IndexSpec } from '../catalog/catalog.js';
import type { Queryable } from '../core/db.js';
import { indexMatches, readViewIndexes, type ExistingIndex } from '../migrate/view-indexes.js';
import type { CheckFinding } from './check-finding.js';

/**
 * The `relkind` (`r` table, `m` materialized view, `v` view, `p` partitioned table, …) of each
 * of `names` that exists, looked up on the search path as the fleet's own queries do. Catalog
 * view names are lower-case identifiers, so the bare name resolves exactly as the quoted one
 * would; a source may be schema-qualified (`sales.orders`).
 */
export async function readRelationKinds(sql: Queryable, names: readonly string[]): Promise<Map<string, string>> {
  const rows = await sql<{ name: string; kind: string }[]>`
    SELECT n.name, c.relkind::text AS kind
    FROM unnest(${[...names]}::text[]) AS n(name)
    JOIN pg_class c ON c.oid = to_regclass(n.name)`;
  return new Map(rows.map(({ name, kind }) => [name, kind]));
}

const KIND_NAMES: Readonly<Record<string, string>> = {
  r: 'a table',
  p: 'a partitioned table',
  m: 'a materialized view',
  v: 'a plain view',
  f: 'a foreign table',
};

const describeKind = (kind: string) => KIND_NAMES[kind] ?? `a relation of kind ${kind}`;

/** The view itself: it exists, and is stored as the catalog says. */
function storageFinding(view: CatalogView, kind: string | undefined): CheckFinding | null {
  const wanted = view.storage === 'materialized' ? 'm' : 'r';
  if (kind === wanted) return null;
  if (kind) {
    return {
      level: 'error',
      view: view.name,
      message:
        `is ${describeKind(kind)} in the database but the catalog stores it as ${describeKind(wanted)}: ` +
        'generate the migration that switches it (drizzle-kit generate), then run `mvfleet migrate`',
    };
  }
  return {
    level: 'error',
    view: view.name,
    message:
      view.storage === 'materialized'
        ? 'the materialized view does not exist: run `mvfleet migrate` (it creates catalog views)'
        : 'the table that stores this keyed view does not exist: generate its migration (drizzle-kit generate), then run `mvfleet migrate`',
  };
}

/** What goes wrong without an index, by role. */
function missingIndexEffect(view: CatalogView, spec: IndexSpec): string {
  if (!spec.unique) return `reads filtering on ${spec.columns.join(', ')} scan the whole view`;
  return view.storage === 'materialized'
    ? 'refreshes fall back to a plain REFRESH, which blocks readers'
    : 'every refresh fails (its upsert needs the unique key)';
}

function describeIndex(spec: { unique: boolean; columns: readonly string[] }): string {
  return `${spec.unique ? 'unique ' : ''}on (${spec.columns.join(', ')})`;
}

function indexFinding(view: CatalogView, spec: IndexSpec, existing: ExistingIndex | undefined): CheckFinding | null {
  if (existing && indexMatches(existing, spec)) return null;
  const role = spec.unique ? 'unique key index' : 'index';
  if (!existing) {
    return {
      level: 'error',
      view: view.name,
      message: `${role} ${spec.name} on (${spec.columns.join(', ')}) is missing: ${missingIndexEffect(view, spec)}; run \`mvfleet migrate\` to create it`,
    };
  }
  const predicate = existing.partial ? ' with a WHERE clause' : '';
  return {
    level: 'error',
    view: view.name,
    message: `${role} ${spec.name} is ${describeIndex(existing)}${predicate}, not ${describeIndex(spec)}: run \`mvfleet migrate\` to rebuild it`,
  };
}

/**
 * The database objects a view needs: the view stored as the catalog says, the tables it reads,
 * and its indexes. `ready` is false when the view or a source is missing, so that checks which
 * query them are skipped.
 */
export async function checkViewObjects(
  sql: Queryable,
  catalog: Catalog,
  view: CatalogView,
  relationKinds: ReadonlyMap<string, string>,
): Promise<{ findings: CheckFinding[]; ready: boolean }> {
  const findings: CheckFinding[] = [];
  const storage = storageFinding(view, relationKinds.get(view.name));
  if (storage) findings.push(storage);
  const missingSources = view.sources.filter((source) => !relationKinds.has(source));
  // A missing catalog view has a finding of its own.
  for (const source of missingSources.filter((name) => !catalog.has(name))) {
    findings.push({
      level: 'error',
      view: view.name,
      message: `source table ${source} does not exist: apply the migration that creates it, or correct \`sources\` (the tables the view reads)`,
    });
  }
  if (storage) return { findings, ready: false };
  const indexes = await readViewIndexes(sql, view.name);
  for (const spec of view.indexes) {
    const finding = indexFinding(view, spec, indexes.get(spec.name));
    if (finding) findings.push(finding);
  }
  return { findings, ready: missingSources.length === 0 };
}
