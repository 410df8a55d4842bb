import { durationTrend } from './duration-trend.js';
import { formatAge, formatBytes, formatCount, formatDuration, formatKeys, formatNextRun, formatRelative, formatStrategy, formatUtc } from './format.js';
import { html, type SafeHtml } from './html.js';
import { renderPageLayout } from './page-layout.js';
import type { DurationPoint } from './recent-durations.js';
import type { RefreshLogEntry } from './refresh-logs.js';
import type { ViewRefreshStats } from './refresh-stats.js';
import type { ViewStatus } from './view-status.js';

/** Everything the freshness page shows, loaded by the route. */
export interface FreshnessPageModel {
  now: Date;
  statuses: readonly ViewStatus[];
  /** Stats over `statsDays`, for recent failures. */
  stats: readonly ViewRefreshStats[];
  statsDays: number;
  trends: ReadonlyMap<string, readonly DurationPoint[]>;
  recentRuns: readonly RefreshLogEntry[];
  /** Job counts by state, or the reason they could not be read. */
  queue: { name: string; counts: Record<string, number> } | { name: string; error: string };
  /** What refreshes each view (`every 1h`, `after <upstream>`), shown when no next run is known. */
  triggers: ReadonlyMap<string, string>;
  /** Next runs computed from cron patterns, for views whose next run the queue did not report. */
  estimatedNextRuns: ReadonlyMap<string, Date>;
  /** Refresh buttons are shown only when writes can be enabled. */
  writesEnabled: boolean;
}

type Severity = 'ok' | 'warn' | 'crit';

/** A view is "warn" once three quarters of its freshness window are used. */
const WARN_AT = 0.75;

function severityOf(status: ViewStatus): Severity {
  if (status.stale || status.last_status === 'failed' || status.consecutive_failures > 0) return 'crit';
  if (status.alerts.length > 0) return 'warn';
  if (status.age_seconds !== null && status.age_seconds > status.fresh_for_minutes * 60 * WARN_AT) return 'warn';
  return 'ok';
}

const rank: Record<Severity, number> = { crit: 0, warn: 1, ok: 2 };

function freshnessCell(status: ViewStatus): SafeHtml {
  const limit = formatAge(status.fresh_for_minutes * 60);
  if (status.age_seconds === null) {
    return html`<td class="fresh crit"><span class="state">NEVER REFRESHED</span><small>limit ${limit}</small></td>`;
  }
  const used = Math.min(1, status.age_seconds / (status.fresh_for_minutes * 60));
  const state = status.stale ? 'STALE' : used >= WARN_AT ? 'AGEING' : 'FRESH';
  const stateSeverity: Severity = status.stale ? 'crit' : used >= WARN_AT ? 'warn' : 'ok';
  return html`<td class="fresh ${stateSeverity}" title="as of ${status.as_of ?? ''}">
    <span class="state">${state}</span> ${formatAge(status.age_seconds)} old
    <small>limit ${limit}${status.populated ? '' : ' · not populated'}</small>
    <div class="bar"><i style="width:${Math.round(used * 100)}%"></i></div>
  </td>`;
}

function lastRunCell(status: ViewStatus, now: Date): SafeHtml {
  const label = status.last_status ?? 'none';
  const when = status.last_refresh_at
    ? html` <span class="muted" title="last success ended ${status.last_refresh_at}">${formatRelative(status.last_refresh_at, now)}</span>`
    : '';
  const failures =
    status.consecutive_failures > 0
      ? html`<span class="error" title="${status.last_error ?? ''}">${status.consecutive_failures}× failed: ${status.last_error ?? 'see logs'}</span>`
      : '';
  return html`<td><span class="badge ${label}">${status.last_status ?? 'never run'}</span>${when}${failures}</td>`;
}

/**
 * How the view is stored and was last refreshed: `MV` or `table`, the strategy of the last
 * success with the keys it drained, and, for keyed views, the keys waiting for a refresh.
 * Drift (rows a full rebuild corrected) is one of the view's alerts.
 */
function strategyCell(status: ViewStatus): SafeHtml {
  const storage =
    status.storage === 'table'
      ? html`<span class="tag" title="stored as a table: events' keys are recomputed by targeted refreshes">table</span>`
      : html`<span class="tag" title="a PostgreSQL materialized view">MV</span>`;
  const pending =
    status.pending_keys === null
      ? ''
      : status.pending_keys === 0
        ? html`<small>no keys pending</small>`
        : html`<small class="pending" title="recorded by events, served live until the next refresh">${formatKeys(status.pending_keys)} pending</small>`;
  const requests =
    status.pending_requests > 0
      ? html`<small class="pending" title="whole-view requests waiting for a refresh">${status.pending_requests} requested</small>`
      : '';
  const oldest =
    status.oldest_pending_seconds !== null
      ? html`<small class="pending" title="the oldest recorded change no refresh has covered yet">oldest waits ${formatAge(status.oldest_pending_seconds)}</small>`
      : '';
  const capture =
    status.capture.length > 0
      ? html`<small class="tag" title="triggers record every write to ${status.capture.join(', ')}">capture</small>`
      : '';
  return html`<td class="strategy" data-storage="${status.storage}" data-strategy="${status.strategy ?? ''}"
    data-keys-refreshed="${status.keys_refreshed ?? ''}" data-pending-keys="${status.pending_keys ?? ''}"
    data-pending-requests="${status.pending_requests}" data-capture="${status.capture.join(' ')}">${storage} ${
      status.strategy === null ? html`<span class="muted">–</span>` : formatStrategy(status.strategy, status.keys_refreshed)
    }${pending}${requests}${oldest}${capture}</td>`;
}

/** A view name that may wrap after its underscores, so long names do not widen the table. */
function breakAtUnderscores(name: string): SafeHtml {
  return html`${name.split('_').map((part, index) => (index === 0 ? part : html`_<wbr>${part}`))}`;
}

function viewRow(status: ViewStatus, model: FreshnessPageModel): SafeHtml {
  const severity = severityOf(status);
  const estimated = model.estimatedNextRuns.get(status.view);
  const nextRun = status.next_run_at
    ? html`<span class="next-run" title="${status.next_run_at}">${formatNextRun(status.next_run_at, model.now)}</span>`
    : estimated
      ? html`<span class="next-run" title="${model.triggers.get(status.view) ?? ''}: computed here, the queue did not report the schedule">${formatNextRun(estimated, model.now)}</span>`
      : html`<span class="muted trigger">${model.triggers.get(status.view) ?? '–'}</span>`;
  const alerts = status.alerts.length > 0 ? html`<ul>${status.alerts.map((alert) => html`<li>${alert}</li>`)}</ul>` : html`<span class="muted">none</span>`;
  return html`<tr class="view ${severity}" data-view="${status.view}" data-severity="${severity}" data-last-status="${status.last_status ?? ''}">
    <td class="name"><b>${breakAtUnderscores(status.view)}</b><small>${status.refreshes_24h} refreshes in 24 h${
      status.success_rate_7d === null ? '' : ` · ${(status.success_rate_7d * 100).toFixed(0)}% ok (7 d)`
    }</small></td>
    ${freshnessCell(status)}
    ${lastRunCell(status, model.now)}
    ${strategyCell(status)}
    <td class="num">${formatDuration(status.last_duration_ms)}<br><span class="muted">p95 ${formatDuration(status.p95_duration_ms)}</span></td>
    <td>${durationTrend(model.trends.get(status.view) ?? [])}</td>
    <td class="num">${formatCount(status.rows)}</td>
    <td class="num">${formatBytes(status.size_bytes)}</td>
    <td class="num">${nextRun}</td>
    <td class="alerts">${alerts}</td>
    ${model.writesEnabled
      ? html`<td><button data-action="refresh" data-url="/api/views/${encodeURIComponent(status.view)}/refresh" title="Enqueue a refresh of ${status.view}">Refresh</button></td>`
      : ''}
  </tr>`;
}

function summary(model: FreshnessPageModel, severities: Map<string, Severity>): SafeHtml {
  const total = model.statuses.length;
  const stale = model.statuses.filter((status) => status.stale).length;
  const failing = model.statuses.filter((status) => status.last_status === 'failed' || status.consecutive_failures > 0).length;
  const attention = [...severities.values()].filter((severity) => severity === 'crit').length;
  const warnings = [...severities.values()].filter((severity) => severity === 'warn').length;
  const verdict: Severity = attention > 0 ? 'crit' : warnings > 0 ? 'warn' : 'ok';
  const names = model.statuses.filter((status) => severities.get(status.view) === verdict).map((status) => status.view);
  const headline =
    verdict === 'crit'
      ? `${attention} of ${total} views need attention`
      : verdict === 'warn'
        ? `All ${total} views fresh, ${warnings} with warnings`
        : `All ${total} views fresh`;
  return html`<section class="summary">
    <div class="verdict ${verdict}" id="verdict">${headline}<small>${verdict === 'ok' ? 'every view is within its freshness limit' : names.join(', ')}</small></div>
    <div class="tile ${stale > 0 ? 'crit' : 'ok'}"><b>${stale}</b><span>stale views</span></div>
    <div class="tile ${failing > 0 ? 'crit' : 'ok'}"><b>${failing}</b><span>failing views</span></div>
    ${queueTiles(model.queue)}
  </section>`;
}

/** The queue's job counts by state, or one tile saying the queue is unreachable. */
export function queueTiles(queue: FreshnessPageModel['queue']): SafeHtml | SafeHtml[] {
  if ('error' in queue) return html`<div class="tile crit"><a href="/queues"><b>?</b><span>queue unreachable</span></a></div>`;
  return (['waiting', 'active', 'delayed', 'failed'] as const).map((state) => {
    const count = queue.counts[state] ?? 0;
    const tone = state === 'failed' && count > 0 ? 'crit' : state === 'active' && count > 0 ? 'run' : '';
    return html`<div class="tile ${tone}"><a href="/queues"><b>${count}</b><span>jobs ${state}</span></a></div>`;
  });
}

function recentFailures(model: FreshnessPageModel): SafeHtml {
  const failures = model.stats
    .flatMap((stats) => stats.recent_failures.map((failure) => ({ view: stats.view, ...failure })))
    .sort((a, b) => b.started_at.localeCompare(a.started_at))
    .slice(0, 10);
  const rows =
    failures.length === 0
      ? html`<tr><td colspan="3" class="muted">No failed refreshes in the last ${model.statsDays} days.</td></tr>`
      : failures.map(
          (failure) => html`<tr><td class="num" title="${failure.started_at}">${formatRelative(failure.started_at, model.now)}</td>
            <td><b>${breakAtUnderscores(failure.view)}</b></td><td><span class="error" title="${failure.error_message ?? ''}">${failure.error_code ? `[${failure.error_code}] ` : ''}${failure.error_message ?? 'no message'}</span></td></tr>`,
        );
  return html`<div><h2>Recent failures (${model.statsDays} days)</h2><table id="recent-failures"><tbody>${rows}</tbody></table></div>`;
}

function recentRuns(model: FreshnessPageModel): SafeHtml {
  const rows =
    model.recentRuns.length === 0
      ? html`<tr><td colspan="5" class="muted">No refreshes logged yet.</td></tr>`
      : model.recentRuns.map(
          (run) => html`<tr data-log-id="${run.id}" data-view="${run.view_name}" data-status="${run.status}">
            <td class="num" title="${run.started_at}">${formatRelative(run.started_at, model.now)}</td>
            <td><b>${breakAtUnderscores(run.view_name)}</b></td>
            <td><span class="badge ${run.status}">${run.status}</span></td>
            <td>${run.reason}${run.trigger_detail ? html` <span class="muted">(${run.trigger_detail})</span>` : ''}${run.attempt > 1 ? ` · attempt ${run.attempt}` : ''}</td>
            <td class="num">${formatDuration(run.duration_ms)}${run.mode ? html` <span class="muted">${run.mode}${
              run.strategy ? ` · ${formatStrategy(run.strategy, run.keys_refreshed)}` : ''
            }</span>` : ''}</td>
          </tr>`,
        );
  return html`<div><h2>Latest refresh attempts</h2><table id="recent-runs"><tbody>${rows}</tbody></table></div>`;
}

/** Renders the whole page; every value from the database or catalog is escaped by `html`. */
export function renderFreshnessPage(model: FreshnessPageModel): string {
  const severities = new Map(model.statuses.map((status) => [status.view, severityOf(status)]));
  // Problems first, so the rows an on-call engineer needs are on top; catalog order otherwise.
  const ordered = [...model.statuses].sort((a, b) => rank[severities.get(a.view)!] - rank[severities.get(b.view)!]);
  const toolbar = model.writesEnabled
    ? html`<div class="toolbar"><button class="primary" data-action="refresh" data-url="/api/refresh-all">Refresh all views</button>
        <button data-action="unlock-board" title="Lets this browser retry, promote and clean jobs in Bull Board">Unlock Bull Board actions</button>
        <span class="muted">Buttons ask for MVFLEET_DASHBOARD_TOKEN once per tab.</span></div>`
    : html`<div class="toolbar"><span class="muted">Read-only: set MVFLEET_DASHBOARD_TOKEN to enable refresh buttons and Bull Board actions.</span></div>`;
  return renderPageLayout({
    title: 'view freshness',
    script: true,
    main: html`<p id="flash" class="flash" role="status"></p>
${toolbar}
<div id="fleet">
${summary(model, severities)}
<table id="views"><thead><tr><th>View</th><th>Freshness</th><th>Last attempt</th><th>Storage<br>strategy</th><th class="num">Duration<br>last / p95</th><th>Trend</th>
<th class="num">Rows</th><th class="num">Size</th><th class="num">Next run</th><th>Alerts</th>${model.writesEnabled ? html`<th></th>` : ''}</tr></thead>
<tbody>${ordered.map((status) => viewRow(status, model))}</tbody></table>
<div class="columns">${recentFailures(model)}${recentRuns(model)}</div>
<p class="muted">Updated ${formatUtc(model.now)} UTC · reloads every 30 s · queue “${model.queue.name}”</p>
</div>`,
  });
}
