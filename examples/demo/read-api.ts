import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { InvalidReadError, type Logger, type Reader, silentLogger, UnknownNameError } from 'mvfleet';

/** Options for {@link createDemoApi}. */
export interface DemoApiOptions {
  /** Reader over the demo catalog. */
  reader: Reader;
  /**
   * Gets failed requests (500s).
   * @defaultValue a silent logger
   */
  logger?: Logger;
}

const TOURNAMENT_VIEW = 'tournament_analytics_summary';
const REVENUE_VIEW = 'mv_revenue_by_project_month';
const INT32_MAX = 2_147_483_647;

class DemoHttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The example API the source applications served, built on the reader; the dashboard
 * mounts it at `/api/demo`. Every answer is `{ data, cache }` with the view's column names;
 * `?live=1` forces the live query; a bad id or month is a 400, an id without rows a 404.
 *
 * - `GET /tournaments/:id/analytics`: the tournament's `tournament_analytics_summary` row.
 * - `GET /firms/:id/revenue?month=YYYY-MM`: the firm's `mv_revenue_by_project_month` rows
 *   of that month, by project.
 */
export function createDemoApi(options: DemoApiOptions): Hono {
  const { reader } = options;
  const logger = options.logger ?? silentLogger();
  const app = new Hono();

  app.get('/tournaments/:id/analytics', async (c) => {
    const id = idParam(c.req.param('id'), 'tournament id');
    const result = await reader.get(TOURNAMENT_VIEW, id, { live: liveQuery(c) });
    if (result.data === null) throw new DemoHttpError(404, `tournament ${id} not found`);
    return c.json(result);
  });

  app.get('/firms/:id/revenue', async (c) => {
    const id = idParam(c.req.param('id'), 'firm id');
    const month = monthQuery(c);
    const result = await reader.list(REVENUE_VIEW, { firm_id: id, month: `${month}-01` }, { live: liveQuery(c), orderBy: 'project_id' });
    // The view only has rows for months with activity, so "no rows" cannot tell an unknown
    // firm from a quiet month; both are a 404 saying what was looked for.
    if (result.data.length === 0) throw new DemoHttpError(404, `no revenue rows for firm ${id} in ${month}`);
    return c.json(result);
  });

  app.onError((error, c) => {
    if (error instanceof DemoHttpError) return c.json({ error: error.message }, error.status);
    if (error instanceof InvalidReadError || error instanceof UnknownNameError) return c.json({ error: error.message }, 400);
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'demo API request failed');
    return c.json({ error: `internal error: ${error instanceof Error ? error.message : String(error)}` }, 500);
  });
  return app;
}

function idParam(raw: string, name: string): number {
  const value = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= 1 && value <= INT32_MAX)) {
    throw new DemoHttpError(400, `${name} must be an integer from 1 to ${INT32_MAX} (got "${raw.slice(0, 40)}")`);
  }
  return value;
}

function monthQuery(c: Context): string {
  const raw = c.req.query('month');
  if (raw === undefined) throw new DemoHttpError(400, 'month is required (YYYY-MM)');
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(raw)) throw new DemoHttpError(400, `month must be YYYY-MM (got "${raw.slice(0, 40)}")`);
  return raw;
}

function liveQuery(c: Context): boolean {
  const raw = c.req.query('live');
  if (raw === undefined || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true' || raw === '') return true;
  throw new DemoHttpError(400, `live must be 1 or 0 (got "${raw.slice(0, 40)}")`);
}
