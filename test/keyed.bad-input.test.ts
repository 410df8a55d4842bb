import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCatalog, type EventDefinition, type KeyedDefinition, type ViewDefinition } from '../src/catalog/catalog.js';
import { createProducer, type Producer } from '../src/producers/producer.js';
import { createRefreshQueue } from '../src/queue/refresh-queue.js';
import { demoCatalog, demoViewDefinitions } from '../examples/demo/schema/catalog.js';
import { revenueByProjectMonth, tournamentAnalyticsSummary } from '../examples/demo/schema/index.js';
import { revenueByProjectMonthQuery } from '../examples/demo/schema/views/revenue-by-project-month.js';
import { tournamentAnalyticsQuery } from '../examples/demo/schema/views/tournament-analytics-summary.js';
import { demoCatalogWith } from './helpers/catalog.js';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';
import { useTestQueue } from './helpers/queue-backend.js';

const TOURNAMENTS = 'tournament_analytics_summary';

/** The demo tournament view's keyed declaration, to vary one field at a time. */
const tournamentKeyed: KeyedDefinition = demoViewDefinitions.find((definition) => definition.view === tournamentAnalyticsSummary)!
  .keyed!;

/**
 * A catalog whose events do not declare the key fields in their payload schemas, so only the
 * views' `eventKeys` know them: `tournament.pinged` carries `tid`, `project.touched` carries
 * `projectId` and a `day` stored as the month key without conversion, and `both.touched`
 * needs all three.
 */
function catalogWithUndeclaredKeys() {
  const loose: EventDefinition = { description: 'payload schema without the key fields', payload: z.object({ note: z.string().optional() }) };
  const views: ViewDefinition[] = [
    {
      view: tournamentAnalyticsSummary,
      description: 'tournament view keyed by an undeclared field',
      uniqueKey: ['tournament_id'],
      sources: ['tournaments', 'registrations', 'matches', 'prize_transactions'],
      schedule: null,
      events: ['tournament.pinged', 'both.touched'],
      keyed: {
        scopeKey: ['tournament_id'],
        query: tournamentAnalyticsQuery,
        eventKeys: { 'tournament.pinged': { tournament_id: 'tid' }, 'both.touched': { tournament_id: 'tid' } },
      },
    },
    {
      view: revenueByProjectMonth,
      description: 'revenue view keyed by undeclared fields',
      uniqueKey: ['project_id', 'month'],
      sources: ['projects', 'invoices', 'time_entries', 'expenses'],
      schedule: null,
      events: ['project.touched', 'both.touched'],
      keyed: {
        scopeKey: ['project_id', 'month'],
        query: revenueByProjectMonthQuery,
        eventKeys: {
          'project.touched': { project_id: 'projectId', month: 'day' },
          'both.touched': { project_id: 'projectId', month: 'day' },
        },
      },
    },
  ];
  return createCatalog({ events: { 'tournament.pinged': loose, 'project.touched': loose, 'both.touched': loose }, views });
}

describe('keyed views refuse events without their keys', () => {
  const db = useTestDatabase();
  const backends = useTestQueue(db);
  const fleets: Producer[] = [];
  afterAll(async () => {
    for (const fleet of fleets) await fleet.close();
  });
  const fleetOver = (catalog = demoCatalog) => {
    const fleet = createProducer({ catalog, backend: backends.backend('producer'), sql: db.sql });
    fleets.push(fleet);
    return fleet;
  };

  async function queuedJobs(backend = backends.backend('producer')) {
    const queue = createRefreshQueue(backend);
    const counts = await queue.getJobCounts();
    await queue.close();
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  const dirtyKeys = async () => (await db.sql<{ count: number }[]>`SELECT count(*)::int AS count FROM mvfleet.mv_dirty_keys`)[0]!.count;

  it('a complete payload is recorded and enqueued (what the refusals below are measured against)', async () => {
    const accepted = backends.isolated('accepted');
    const fleet = createProducer({ catalog: demoCatalog, backend: accepted, sql: db.sql });
    try {
      await fleet.emit('expense.approved', { firmId: 1, projectId: 2, incurredOn: '2026-03-17' });
      const recorded = await db.sql`SELECT view_name, key, event FROM mvfleet.mv_dirty_keys`;
      expect(recorded).toEqual([{ view_name: 'mv_revenue_by_project_month', key: [2, '2026-03-01'], event: 'expense.approved' }]);
      expect(await queuedJobs(accepted)).toBe(1);
    } finally {
      await fleet.close();
      await db.sql`DELETE FROM mvfleet.mv_dirty_keys`;
    }
  });

  it.each([
    ['expense.approved', { firmId: 1, projectId: 2 }, /invalid payload for expense\.approved: incurredOn/],
    ['invoice.paid', { firmId: 1, paidOn: '2026-03-01' }, /invalid payload for invoice\.paid: projectId/],
    ['time_entry.approved', { firmId: 1, projectId: 2, entryDate: '2026-03-01T10:00' }, /time_entry\.approved: entryDate must be a date/],
    ['invoice.paid', { firmId: 1, projectId: 2, paidOn: '2026-13-45' }, /invalid payload for invoice\.paid: paidOn must be a date YYYY-MM-DD/],
    ['match.completed', {}, /invalid payload for match\.completed: tournamentId/],
    ['prize.paid', { tournamentId: 0 }, /invalid payload for prize\.paid: tournamentId/],
    // Past the key column's type: recorded, it would fail every refresh of the view on its cast.
    [
      'match.completed',
      { tournamentId: 3_000_000_000 },
      /match\.completed: tournamentId must be an integer from -2147483648 to 2147483647 \(got 3000000000\)/,
    ],
  ])('demo %s %j: refused naming the field; nothing enqueued or recorded', async (event, payload, message) => {
    await expect(fleetOver().emit(event, payload)).rejects.toThrow(message);
    expect(await queuedJobs()).toBe(0);
    expect(await dirtyKeys()).toBe(0);
  });

  it.each([
    ['tournament.pinged', {}, 'tid is required (tournament_analytics_summary is refreshed by its tournament_id)'],
    ['tournament.pinged', { tid: 'seven' }, 'tid must be an integer from -2147483648 to 2147483647 (got "seven")'],
    ['project.touched', { day: '2026-03-01' }, 'projectId is required (mv_revenue_by_project_month is refreshed by its project_id)'],
    ['project.touched', { projectId: 4 }, 'day is required (mv_revenue_by_project_month is refreshed by its month)'],
    ['project.touched', { projectId: 4, day: '2026-13-01' }, 'day must be a date YYYY-MM-DD (got "2026-13-01")'],
    ['project.touched', { projectId: 4, day: '2026-02-30' }, 'day must be a date YYYY-MM-DD (got "2026-02-30")'],
    // The tournament's key is there, the project's is not: neither is recorded.
    ['both.touched', { tid: 5, day: '2026-03-01' }, 'projectId is required'],
  ])('payload schema without the key, %s %j: refused by the view’s eventKeys', async (event, payload, message) => {
    await expect(fleetOver(catalogWithUndeclaredKeys()).emit(event, payload)).rejects.toThrow(`invalid payload for ${event}: ${message}`);
    expect(await queuedJobs()).toBe(0);
    expect(await dirtyKeys()).toBe(0);
  });

  it.each([
    [{ keyed: { ...tournamentKeyed, scopeKey: ['tournament_status'] } }, /keyed\.scopeKey column tournament_status is not in uniqueKey/],
    [
      { keyed: { ...tournamentKeyed, eventKeys: { ...tournamentKeyed.eventKeys, 'invoice.paid': { tournament_id: 'firmId' } } } },
      /keyed\.eventKeys: invoice\.paid is not one of the view's events/,
    ],
    [
      { keyed: { ...tournamentKeyed, eventKeys: { 'match.completed': { tournament_status: 'tournamentId' } } } },
      /keyed\.eventKeys\.match\.completed must map exactly the scope key columns \(tournament_id\)/,
    ],
    [{ keyed: { ...tournamentKeyed, fullRebuildShare: 1.5 } }, /keyed\.fullRebuildShare must be between 0 and 1 \(got 1\.5\)/],
    [{ keyed: { ...tournamentKeyed, fullRebuildShare: -0.1 } }, /keyed\.fullRebuildShare must be between 0 and 1 \(got -0\.1\)/],
    [{ keyed: { ...tournamentKeyed, fullRebuildShare: Number.NaN } }, /keyed\.fullRebuildShare must be between 0 and 1 \(got NaN\)/],
    [{ keyed: undefined }, /a table-stored view must be keyed/],
  ])('catalog refuses the tournament view with %j', (override, message) => {
    const build = () => demoCatalogWith({ [TOURNAMENTS]: override as Partial<ViewDefinition> });
    expect(build).toThrow(/^invalid catalog:\n {2}- catalog view tournament_analytics_summary: /);
    expect(build).toThrow(message);
  });

  it('catalog accepts the bounds of fullRebuildShare', () => {
    for (const share of [0, 1]) {
      const catalog = demoCatalogWith({ [TOURNAMENTS]: { keyed: { ...tournamentKeyed, fullRebuildShare: share } } });
      expect(catalog.get(TOURNAMENTS).keyed!.fullRebuildShare).toBe(share);
    }
  });

  it('mvfleet emit without the key: exit 2 naming the field, nothing enqueued or recorded', async () => {
    const result = await runCli(['emit', 'match.completed', '--data', '{}'], { ...backends.env(), DATABASE_URL: db.url });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/invalid payload for match\.completed: tournamentId/);
    expect(await queuedJobs()).toBe(0);
    expect(await dirtyKeys()).toBe(0);
  });

  it.each([
    [['verify', 'nope'], /unknown view "nope"/],
    [['verify'], /name one or more views, or pass --all/],
    [['verify', '--all', TOURNAMENTS], /name one or more views, or pass --all/],
  ])('mvfleet %j: exit 2 with one line', async (args, message) => {
    const result = await runCli(args, { DATABASE_URL: db.url });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});
