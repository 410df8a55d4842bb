export { createDashboard, dashboardDefaults, type Dashboard, type DashboardListener, type DashboardOptions } from './server.js';
export { REFRESH_DURATION_BUCKETS } from './metrics.js';
export { readViewStatuses, type ViewStatus } from './view-status.js';
export { readRefreshLogs, type RefreshLogEntry } from './refresh-logs.js';
export { readRefreshStats, type RefreshStats, type ViewRefreshStats } from './refresh-stats.js';
