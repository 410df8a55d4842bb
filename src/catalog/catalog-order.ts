import type { CatalogView } from './catalog.js';
import { MvfleetError } from '../core/errors.js';

/** Orders views so every view comes after its upstream views; throws on unknown names or cycles. */
export function dependencyOrder(views: CatalogView[]): CatalogView[] {
  const byName = new Map(views.map((view) => [view.name, view]));
  const ordered: CatalogView[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (view: CatalogView, path: string[]) => {
    if (state.get(view.name) === 'done') return;
    if (state.get(view.name) === 'visiting') {
      throw new MvfleetError(`catalog: dependency cycle ${[...path, view.name].join(' -> ')}`);
    }
    state.set(view.name, 'visiting');
    for (const upstream of view.upstream) {
      const parent = byName.get(upstream);
      if (!parent) throw new MvfleetError(`catalog view ${view.name}: upstream ${upstream} is not a catalog view`);
      visit(parent, [...path, view.name]);
    }
    state.set(view.name, 'done');
    ordered.push(view);
  };
  for (const view of views) visit(view, []);
  return ordered;
}
