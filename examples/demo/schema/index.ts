/**
 * Everything drizzle-kit migrates: the demo domain and its views (mvfleet migrates its own tables).
 * Views are listed upstream first so a fresh migration creates them in dependency order.
 */
export * from './domain/tournaments.js';
export * from './domain/ahsp.js';
export * from './domain/finance.js';
export * from './domain/budget.js';
export { tournamentAnalyticsSummary } from './views/tournament-analytics-summary.js';
export { referensiAhspStats } from './views/referensi-ahsp-stats.js';
export { revenueByProjectMonth } from './views/revenue-by-project-month.js';
export { utilizationByUserWeek } from './views/utilization-by-user-week.js';
export { utilizationByProjectMonth } from './views/utilization-by-project-month.js';
export { revenueByFirmQuarter } from './views/revenue-by-firm-quarter.js';
export { kpiDashboard } from './views/kpi-dashboard.js';
export { budgetConsolidation } from './views/budget-consolidation.js';
