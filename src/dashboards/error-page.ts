import { formatUtc } from './format.js';
import { queueTiles, type FreshnessPageModel } from './freshness-page.js';
import { html } from './html.js';
import { renderPageLayout } from './page-layout.js';

/** What {@link renderErrorPage} shows. */
export interface ErrorPageModel {
  now: Date;
  /** `PostgreSQL is unreachable`. */
  headline: string;
  /** What it means for the page, and when it will show data again. */
  explanation: string;
  /** The cause on one line, for the token's holders; null for other viewers (it names hosts and ports). */
  cause: string | null;
  /** The queue's state, when the route read it; else the page says nothing about the queue. */
  queue?: FreshnessPageModel['queue'] | undefined;
}

/** Seconds between the error page's own reloads: as often as the freshness page reloads its data. */
export const ERROR_PAGE_RELOAD_SECONDS = 30;

/**
 * The page `GET /` answers with when it cannot show the freshness data. It keeps the freshness
 * page's layout and its `#fleet` section, so a freshness page already open swaps the error in on
 * its next live reload (and the data back once it loads again). It runs no script: it reloads
 * itself through a meta refresh.
 */
export function renderErrorPage(model: ErrorPageModel): string {
  const cause = model.cause === null
    ? html`<p class="muted">The cause is in the dashboard log; viewers with the dashboard token see it here.</p>`
    : html`<p>Cause: <code id="cause">${model.cause}</code></p>`;
  return renderPageLayout({
    title: model.headline,
    reloadAfterSeconds: ERROR_PAGE_RELOAD_SECONDS,
    main: html`<div id="fleet">
<section class="summary">
  <div class="verdict crit" id="verdict" role="alert">${model.headline}<small>${model.explanation}</small></div>
  ${model.queue ? queueTiles(model.queue) : ''}
</section>
${cause}
<p class="muted">Checked ${formatUtc(model.now)} UTC · reloads every ${ERROR_PAGE_RELOAD_SECONDS} s${model.queue ? ` · queue “${model.queue.name}”` : ''}</p>
</div>`,
  });
}
