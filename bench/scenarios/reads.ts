import { createReader, type Reader } from '../../src/reads/index.js';
import type { RowKey } from '../../src/reads/index.js';
import { createRefreshExecutor } from '../../src/workers/refresh-executor.js';
import { figureSet, type Scenario } from '../context.js';
import { ratio, seededRandom, since, summarize } from '../stats.js';

/**
 * MV-served vs live reads through the reader (`live: true` vs a fresh MV), for a tournament
 * and a revenue `get`. The two paths alternate key by key (and which goes first alternates
 * too), so machine noise lands on both alike.
 */
export const readsScenario: Scenario = async (context) => {
  const { db, catalog, workload } = context;
  const out = figureSet();
  // Refresh first: the reader serves the MV only while its last successful refresh is recent enough.
  const executor = createRefreshExecutor({ sql: db.sql, catalog, workerId: 'bench-reads' });
  for (const view of ['tournament_analytics_summary', 'mv_revenue_by_project_month']) {
    await executor.refresh({ view, reason: 'manual', triggerDetail: 'bench reads' });
  }
  const reader = createReader({ sql: db.sql, catalog });
  const random = seededRandom(7);
  try {
    const tournamentIds = (
      await db.sql<{ id: number }[]>`SELECT tournament_id AS id FROM tournament_analytics_summary ORDER BY tournament_id`
    ).map((row) => row.id);
    const revenueKeys = await db.sql<{ project_id: number; month: string }[]>`
      SELECT project_id, to_char(month, 'YYYY-MM-DD') AS month FROM mv_revenue_by_project_month ORDER BY project_id, month`;
    const cases: { key: string; view: string; label: string; keys: RowKey[] }[] = [
      { key: 'tournament', view: 'tournament_analytics_summary', label: 'tournament get', keys: tournamentIds },
      {
        key: 'revenue',
        view: 'mv_revenue_by_project_month',
        label: 'revenue get',
        keys: revenueKeys.map((row) => ({ project_id: row.project_id, month: row.month })),
      },
    ];
    for (const readCase of cases) {
      context.log(`reads: ${readCase.label}, ${workload.readPairs} MV/live pairs`);
      const pick = () => readCase.keys[Math.floor(random() * readCase.keys.length)]!;
      const { mv, live } = await interleavedReads(reader, readCase.view, pick, workload.readWarmup, workload.readPairs);
      const mvStats = summarize(mv);
      const liveStats = summarize(live);
      out.add(`${readCase.key}.mv.p50_ms`, mvStats.p50, 'ms', `${readCase.label}, MV p50`);
      out.add(`${readCase.key}.mv.p99_ms`, mvStats.p99, 'ms', `${readCase.label}, MV p99`);
      out.add(`${readCase.key}.live.p50_ms`, liveStats.p50, 'ms', `${readCase.label}, live p50`);
      out.add(`${readCase.key}.live.p99_ms`, liveStats.p99, 'ms', `${readCase.label}, live p99`);
      out.add(`${readCase.key}.ratio_p50`, ratio(liveStats.p50, mvStats.p50), 'x', `${readCase.label}, live/MV at p50`);
      out.add(`${readCase.key}.ratio_p99`, ratio(liveStats.p99, mvStats.p99), 'x', `${readCase.label}, live/MV at p99`);
    }
    out.note('Reads go through createReader().get: MV path = freshness lookup (cached 1 s) + key lookup; live path = the view definition restricted to the key.');
  } finally {
    await reader.close();
  }
  return out;
};

async function interleavedReads(
  reader: Reader,
  view: string,
  pick: () => RowKey,
  warmup: number,
  pairs: number,
): Promise<{ mv: number[]; live: number[] }> {
  const mv: number[] = [];
  const live: number[] = [];
  for (let i = 0; i < warmup + pairs; i += 1) {
    const key = pick();
    const order = i % 2 === 0 ? (['mv', 'live'] as const) : (['live', 'mv'] as const);
    for (const source of order) {
      const start = performance.now();
      const answer = await reader.get(view, key, { live: source === 'live' });
      const ms = since(start);
      // A read that fell back to live would make the MV look slow: refuse to count it.
      if (answer.cache.source !== (source === 'mv' ? 'materialized' : 'live')) {
        throw new Error(`reads: expected a ${source} answer from ${view}, got ${answer.cache.source}`);
      }
      if (i >= warmup) (source === 'mv' ? mv : live).push(ms);
    }
  }
  return { mv, live };
}
