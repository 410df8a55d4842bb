/** Stylesheet of the freshness page: inline, so the page needs no network beyond this server. */
export const PAGE_CSS = `
:root { --ok: #2e7d32; --ok-bg: #e8f5e9; --warn: #a15c00; --warn-bg: #fff4e0; --crit: #c62828; --crit-bg: #fdecea;
  --run: #1565c0; --run-bg: #e3f0fc; --muted: #6b7280; --line: #e5e7eb; --ink: #111827; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f7f8fa; }
header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: #1f2937; color: #fff; }
header h1 { font-size: 17px; margin: 0; font-weight: 600; }
header nav { margin-left: auto; display: flex; gap: 14px; align-items: center; }
header a { color: #cbd5e1; text-decoration: none; } header a:hover { color: #fff; }
main { padding: 16px 16px 40px; }
.summary { display: flex; flex-wrap: wrap; gap: 12px; align-items: stretch; margin-bottom: 16px; }
.verdict { flex: 1 1 320px; padding: 12px 16px; border-radius: 8px; font-size: 18px; font-weight: 600; border-left: 6px solid; }
.verdict small { display: block; font-size: 13px; font-weight: 400; margin-top: 2px; }
.verdict.ok { background: var(--ok-bg); border-color: var(--ok); color: var(--ok); }
.verdict.warn { background: var(--warn-bg); border-color: var(--warn); color: var(--warn); }
.verdict.crit { background: var(--crit-bg); border-color: var(--crit); color: var(--crit); }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 92px; }
.tile b { display: block; font-size: 20px; } .tile span { color: var(--muted); font-size: 12px; }
.tile.crit b { color: var(--crit); } .tile.warn b { color: var(--warn); } .tile.ok b { color: var(--ok); } .tile.run b { color: var(--run); }
.tile a { color: inherit; text-decoration: none; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th { text-align: left; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .03em;
  padding: 8px 10px; border-bottom: 1px solid var(--line); background: #fafafa; white-space: nowrap; }
td { padding: 6px 7px; border-bottom: 1px solid var(--line); vertical-align: middle; }
#views { font-size: 13px; } #views th { padding: 8px 7px; }
tr:last-child td { border-bottom: 0; }
tr.view { border-left: 5px solid var(--ok); } tr.view.warn { border-left-color: var(--warn); } tr.view.crit { border-left-color: var(--crit); background: #fffafa; }
td.name { min-width: 150px; max-width: 190px; } td.name b { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; overflow-wrap: anywhere; }
td.name small { display: block; color: var(--muted); }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num .muted { font-size: 12px; }
.fresh { white-space: nowrap; } .fresh .state { font-weight: 700; } .fresh small { display: block; color: var(--muted); white-space: normal; max-width: 120px; }
.fresh.ok .state { color: var(--ok); } .fresh.warn .state { color: var(--warn); } .fresh.crit .state { color: var(--crit); }
.bar { height: 4px; width: 90px; background: var(--line); border-radius: 2px; margin-top: 3px; overflow: hidden; }
.bar i { display: block; height: 100%; background: var(--ok); } .warn .bar i { background: var(--warn); } .crit .bar i { background: var(--crit); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.badge.success { background: var(--ok-bg); color: var(--ok); } .badge.failed { background: var(--crit-bg); color: var(--crit); }
.badge.running { background: var(--run-bg); color: var(--run); } .badge.skipped, .badge.none { background: #f1f5f9; color: var(--muted); }
.alerts { color: var(--crit); font-size: 12px; min-width: 130px; max-width: 190px; }
.trigger { display: inline-block; max-width: 110px; white-space: normal; overflow-wrap: anywhere; font-size: 12px; } .alerts li { margin: 0; } .alerts ul { margin: 0; padding-left: 16px; }
.error { color: var(--crit); font-size: 12px; display: block; max-width: 170px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.muted { color: var(--muted); }
td.strategy { font-size: 12px; max-width: 110px; } td.strategy small { display: block; color: var(--muted); } td.strategy small.pending { color: var(--run); }
.tag { display: inline-block; padding: 0 5px; border: 1px solid var(--line); border-radius: 4px; font-size: 11px; font-weight: 600; color: var(--muted); background: #f8fafc; }
button { font: inherit; font-size: 13px; padding: 4px 10px; border-radius: 6px; border: 1px solid #94a3b8; background: #fff; cursor: pointer; }
button:hover { background: #f1f5f9; } button.primary { background: #1f4e79; color: #fff; border-color: #1f4e79; }
button:disabled { opacity: .5; cursor: wait; }
h2 { font-size: 15px; margin: 24px 0 8px; }
.columns { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
#recent-runs td.num .muted { display: block; } #recent-runs b, #recent-failures b { overflow-wrap: anywhere; }
.flash { min-height: 20px; margin: -6px 0 6px; color: var(--run); font-weight: 500; } .flash.err { color: var(--crit); }
.toolbar { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; } .toolbar .muted { margin-left: auto; font-size: 12px; }
svg.trend { display: block; }
.next-run { display: inline-block; white-space: normal; min-width: 64px; max-width: 90px; }
`;

/**
 * Script of the freshness page: refresh buttons (token asked once per tab, sent as a bearer
 * header), a live reload of the fleet section, and unlocking Bull Board's actions.
 */
export const PAGE_SCRIPT = `
(() => {
  const TOKEN_KEY = 'mvfleet-dashboard-token';
  const flash = (text, error) => {
    const el = document.getElementById('flash');
    if (!el) return;
    el.textContent = text;
    el.className = error ? 'flash err' : 'flash';
  };
  async function authorised(url, method) {
    let token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) token = window.prompt('Dashboard token (MVFLEET_DASHBOARD_TOKEN) to request refreshes:');
    if (!token) {
      flash('Cancelled: no token entered, nothing was requested.', true);
      return null;
    }
    const res = await fetch(url, { method, headers: { 'X-Mvfleet-Token': token } });
    if (res.ok) sessionStorage.setItem(TOKEN_KEY, token);
    else if (res.status === 401 || res.status === 403) sessionStorage.removeItem(TOKEN_KEY);
    return res;
  }
  async function reload() {
    const res = await fetch(location.pathname, { headers: { Accept: 'text/html' }, cache: 'no-store' });
    // The error page (PostgreSQL unreachable) has a #fleet too: swapping it in shows the outage
    // instead of data that silently stopped updating, and the next good reload swaps it back.
    if (!res.ok && !(res.headers.get('content-type') || '').startsWith('text/html')) return;
    const next = new DOMParser().parseFromString(await res.text(), 'text/html').getElementById('fleet');
    const current = document.getElementById('fleet');
    if (next && current) current.replaceWith(next);
  }
  const lastLogId = () => Math.max(0, ...[...document.querySelectorAll('#recent-runs [data-log-id]')].map((row) => Number(row.dataset.logId)));
  async function follow(views, sinceId) {
    const deadline = Date.now() + 120000;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await reload();
      const rows = [...document.querySelectorAll('#recent-runs [data-log-id]')]
        .filter((row) => Number(row.dataset.logId) > sinceId && views.includes(row.dataset.view));
      const finished = rows.filter((row) => row.dataset.status !== 'running');
      if (rows.length > 0) flash(finished.length >= views.length ? 'Done: ' + finished.map((row) => row.dataset.view + ' ' + row.dataset.status).join(', ') : 'Running: ' + rows.map((row) => row.dataset.view).join(', '));
      if (finished.length >= views.length) return;
    }
    flash('Still waiting for a worker to pick up the refresh: is mvfleet worker running? See Bull Board.', true);
  }
  document.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    button.disabled = true;
    try {
      if (button.dataset.action === 'unlock-board') {
        const res = await authorised('/api/session', 'POST');
        if (res) flash(res.ok ? 'Bull Board actions unlocked in this browser.' : 'Refused: ' + (await res.json()).error, !res.ok);
        return;
      }
      const since = lastLogId();
      const res = await authorised(button.dataset.url, 'POST');
      if (!res) return;
      const body = await res.json();
      if (res.status !== 202) { flash('Refused (' + res.status + '): ' + body.error, true); return; }
      const views = body.jobs.map((job) => job.view);
      flash('Queued ' + (views.length === 1 ? views[0] : views.length + ' views') + ' (job ' + body.jobs.map((job) => job.job_id).join(', ') + '); waiting for a worker…');
      await follow(views, since);
    } catch (error) {
      flash(String(error), true);
    } finally {
      button.disabled = false;
    }
  });
  setInterval(() => { if (!document.hidden) reload().catch(() => {}); }, 30000);
})();
`;
