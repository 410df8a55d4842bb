import { createCatalog, type KeyField, type Schedule, type ViewDefinition } from 'mvfleet';
import { demoEvents } from './events.js';
import { revenueByProjectMonthQuery } from './views/revenue-by-project-month.js';
import { tournamentAnalyticsQuery } from './views/tournament-analytics-summary.js';
import {
  budgetConsolidation,
  kpiDashboard,
  referensiAhspStats,
  revenueByFirmQuarter,
  revenueByProjectMonth,
  tournamentAnalyticsSummary,
  utilizationByProjectMonth,
  utilizationByUserWeek,
} from './index.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Hourly, each tick delayed by up to 10 minutes so installs do not all refresh at :00. */
const hourlyWithJitter: Schedule = { kind: 'every', everyMs: HOUR, jitterMs: 10 * MINUTE };
/** 02:00 every night in the fleet's time zone (`MVFLEET_TZ`). */
const nightlyAt2: Schedule = { kind: 'cron', pattern: '0 2 * * *', timeZone: null, jitterMs: 0 };

/** The tournament an event names is the key of the tournament view. */
const tournamentKey = { tournament_id: 'tournamentId' } as const;

/** A payload date (`YYYY-MM-DD`) as the first day of its month: the `month` key of monthly views. */
const monthOf = (field: string): KeyField => ({
  field,
  convert(value) {
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new Error('must be a date YYYY-MM-DD');
    return `${value.slice(0, 7)}-01`;
  },
});

/**
 * Keyed views coalesce events for a quarter second only: a targeted refresh costs
 * milliseconds, and requests that arrive while one runs share the next one anyway.
 */
const KEYED_COALESCE_MS = 250;

/** Daily views count as stale after 36 h: one missed night is an alert, not an outage. */
const DAILY_FRESHNESS_MINUTES = 36 * 60;

/** The eight views of the four source applications (design.md), as catalog data. */
export const demoViewDefinitions: readonly ViewDefinition[] = [
  {
    view: tournamentAnalyticsSummary,
    description: 'Participation, match and prize analytics per tournament.',
    uniqueKey: ['tournament_id'],
    indexes: [{ name: 'tournament_analytics_summary_status_idx', columns: ['tournament_status', 'tournament_id'] }],
    sources: ['tournaments', 'registrations', 'matches', 'prize_transactions'],
    schedule: hourlyWithJitter,
    freshForMinutes: 15,
    retryBackoffMs: [MINUTE, 5 * MINUTE, 15 * MINUTE],
    events: ['match.completed', 'registration.confirmed', 'prize.paid', 'tournament.finalized'],
    coalesceWindowMs: KEYED_COALESCE_MS,
    // Every write to a source records the tournaments it touched, even one no event announces.
    capture: {
      tournaments: { key: { tournament_id: 'id' } },
      registrations: { key: { tournament_id: 'tournament_id' } },
      matches: { key: { tournament_id: 'tournament_id' } },
      prize_transactions: { key: { tournament_id: 'tournament_id' } },
    },
    keyed: {
      scopeKey: ['tournament_id'],
      query: tournamentAnalyticsQuery,
      eventKeys: {
        'match.completed': tournamentKey,
        'registration.confirmed': tournamentKey,
        'prize.paid': tournamentKey,
        'tournament.finalized': tournamentKey,
      },
    },
  },
  {
    view: referensiAhspStats,
    description: 'Line-item statistics per AHSP reference analysis.',
    uniqueKey: ['ahsp_id'],
    indexes: [
      { name: 'referensi_ahsp_stats_sumber_idx', columns: ['sumber'] },
      { name: 'referensi_ahsp_stats_klasifikasi_idx', columns: ['klasifikasi'] },
      { name: 'referensi_ahsp_stats_kode_ahsp_idx', columns: ['kode_ahsp'] },
    ],
    sources: ['ahsp_referensi', 'rincian_referensi'],
    schedule: nightlyAt2,
    freshForMinutes: DAILY_FRESHNESS_MINUTES,
    events: ['import.finished'],
    // A materialized view: any write to its sources asks for a whole refresh.
    capture: { ahsp_referensi: {}, rincian_referensi: {} },
  },
  {
    view: revenueByProjectMonth,
    description: 'Revenue, labour and expense cost, and margin per project and month.',
    uniqueKey: ['project_id', 'month'],
    indexes: [
      { name: 'mv_revenue_by_project_month_firm_month_idx', columns: ['firm_id', 'month'] },
      { name: 'mv_revenue_by_project_month_client_month_idx', columns: ['client_id', 'month'] },
    ],
    sources: ['projects', 'invoices', 'time_entries', 'expenses'],
    schedule: nightlyAt2,
    freshForMinutes: DAILY_FRESHNESS_MINUTES,
    events: ['invoice.paid', 'time_entry.approved', 'expense.approved'],
    coalesceWindowMs: KEYED_COALESCE_MS,
    // Months come from the same expressions the view groups by. A write to projects names
    // no month: it recomputes every month of the project (a partial key).
    capture: {
      invoices: { key: { project_id: 'project_id', month: { sql: "date_trunc('month', paid_on::timestamp)::date" } } },
      time_entries: { key: { project_id: 'project_id', month: { sql: "date_trunc('month', entry_date::timestamp)::date" } } },
      expenses: { key: { project_id: 'project_id', month: { sql: "date_trunc('month', incurred_on::timestamp)::date" } } },
      projects: { key: { project_id: 'id' }, columns: ['name', 'project_code', 'client_id', 'firm_id'] },
    },
    keyed: {
      scopeKey: ['project_id', 'month'],
      query: revenueByProjectMonthQuery,
      eventKeys: {
        'invoice.paid': { project_id: 'projectId', month: monthOf('paidOn') },
        'time_entry.approved': { project_id: 'projectId', month: monthOf('entryDate') },
        'expense.approved': { project_id: 'projectId', month: monthOf('incurredOn') },
      },
    },
  },
  {
    view: utilizationByUserWeek,
    description: 'Approved and billable hours per person and week.',
    uniqueKey: ['firm_id', 'user_id', 'week_start'],
    indexes: [
      { name: 'mv_utilization_by_user_week_user_week_idx', columns: ['user_id', 'week_start'] },
      { name: 'mv_utilization_by_user_week_firm_week_idx', columns: ['firm_id', 'week_start'] },
    ],
    sources: ['time_entries', 'projects'],
    schedule: nightlyAt2,
    freshForMinutes: DAILY_FRESHNESS_MINUTES,
    events: ['time_entry.approved'],
  },
  {
    view: utilizationByProjectMonth,
    description: 'Approved and billable hours, team and tasks per project and month.',
    uniqueKey: ['project_id', 'month'],
    indexes: [
      { name: 'mv_utilization_by_project_month_firm_month_idx', columns: ['firm_id', 'month'] },
      { name: 'mv_utilization_by_project_month_client_month_idx', columns: ['client_id', 'month'] },
    ],
    sources: ['time_entries', 'projects'],
    schedule: nightlyAt2,
    freshForMinutes: DAILY_FRESHNESS_MINUTES,
    events: ['time_entry.approved'],
  },
  {
    view: revenueByFirmQuarter,
    description: 'Quarterly revenue and margin per firm, rolled up from the monthly view.',
    uniqueKey: ['firm_id', 'quarter'],
    sources: ['mv_revenue_by_project_month'],
    upstream: ['mv_revenue_by_project_month'],
    schedule: null,
    freshForMinutes: DAILY_FRESHNESS_MINUTES,
  },
  {
    view: kpiDashboard,
    description: 'Enrolment, staffing and budget KPIs per budget version.',
    uniqueKey: ['budget_version_id'],
    indexes: [{ name: 'mv_kpi_dashboard_fiscal_year_status_idx', columns: ['fiscal_year', 'status'] }],
    sources: ['budget_versions', 'enrollments', 'classes', 'teacher_allocations', 'budget_lines'],
    schedule: nightlyAt2,
    freshForMinutes: DAILY_FRESHNESS_MINUTES,
    events: ['budget_version.status_changed'],
  },
  {
    view: budgetConsolidation,
    description: 'Budget totals per version and account code.',
    uniqueKey: ['budget_version_id', 'account_code'],
    indexes: [
      { name: 'mv_budget_consolidation_category_idx', columns: ['consolidation_category'] },
      { name: 'mv_budget_consolidation_fiscal_year_status_idx', columns: ['fiscal_year', 'status'] },
    ],
    sources: ['budget_versions', 'budget_lines'],
    schedule: nightlyAt2,
    freshForMinutes: DAILY_FRESHNESS_MINUTES,
    events: ['budget_version.status_changed'],
  },
];

/** The demo catalog: the views above and the events of schema/events.ts. */
export const demoCatalog = createCatalog({ events: demoEvents, views: demoViewDefinitions });
