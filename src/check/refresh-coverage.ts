import type { CatalogView } from '../catalog/catalog.js';
import type { CheckFinding } from './check-finding.js';
import { listOf } from './word-list.js';

/**
 * Whether something refreshes the view after its sources change. A schedule catches every
 * change eventually; a cascade refreshes it after its upstream views. Events do not say which
 * tables they follow, so a view refreshed by events alone is only as fresh as the app is
 * thorough in emitting them: a change to a source that no listed event follows is never seen.
 * One finding at most per view.
 */
export function checkRefreshCoverage(view: CatalogView): CheckFinding[] {
  if (view.schedule) return [];
  if (view.events.length === 0) {
    if (view.upstream.length > 0) return [];
    return [
      {
        level: 'warning',
        view: view.name,
        message:
          'nothing refreshes it but a manual request (no schedule, no events, no upstream view): ' +
          `add a schedule, or the events that follow changes to ${listOf(view.sources)}`,
      },
    ];
  }
  // Changes to upstream views arrive by cascade; only the other sources depend on the events.
  const tables = view.sources.filter((source) => !view.upstream.includes(source));
  if (tables.length === 0) return [];
  return [
    {
      level: 'warning',
      view: view.name,
      message:
        `no schedule: a change to ${listOf(tables)} that no ${listOf(view.events, 'or')} event follows ` +
        'stays invisible until a manual refresh; add a schedule as a backstop',
    },
  ];
}
