import { html, trusted, type SafeHtml } from './html.js';
import { PAGE_CSS, PAGE_SCRIPT } from './page-assets.js';

/** What {@link renderPageLayout} frames. */
export interface PageLayoutOptions {
  /** Shown after `mvfleet · ` in the tab's title. */
  title: string;
  main: SafeHtml;
  /**
   * Whether the page runs the page script (refresh buttons, live reload). It is inline and
   * allowed by its hash in the Content-Security-Policy, so no other inline script may be added.
   * @defaultValue false
   */
  script?: boolean;
  /**
   * Reload the whole page after this many seconds, without a script (`<meta http-equiv="refresh">`).
   * @defaultValue no reload
   */
  reloadAfterSeconds?: number;
}

/**
 * The frame every dashboard page shares: the inline stylesheet (no request leaves this server)
 * and the header with its links, so an error page looks and navigates like the freshness page.
 */
export function renderPageLayout(options: PageLayoutOptions): string {
  const reload = options.reloadAfterSeconds === undefined ? '' : html`<meta http-equiv="refresh" content="${options.reloadAfterSeconds}">`;
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${reload}
<title>mvfleet · ${options.title}</title><style>${trusted(PAGE_CSS)}</style></head>
<body><header><h1>mvfleet · materialized view freshness</h1><nav><a href="/queues">Bull Board</a><a href="/api/views">JSON</a><a href="/metrics">Metrics</a></nav></header>
<main>
${options.main}
</main>${options.script ? html`<script>${trusted(PAGE_SCRIPT)}</script>` : ''}</body></html>`}`;
}
