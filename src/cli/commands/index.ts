import type { Command } from '../../config/define-config.js';
import { checkCommand } from './check.js';
import { dashboardCommand } from './dashboard.js';
import { emitCommand } from './emit.js';
import { logsCommand } from './logs.js';
import { migrateCommand } from './migrate.js';
import { refreshCommand } from './refresh.js';
import { schedulerCommand } from './scheduler.js';
import { statsCommand } from './stats.js';
import { statusCommand } from './status.js';
import { upCommand } from './up.js';
import { verifyCommand } from './verify.js';
import { workerCommand } from './worker.js';

/** Every built-in `mvfleet` subcommand, in help order (a config may add its own). Importing this runs nothing. */
export const commands: readonly Command[] = [
  migrateCommand,
  checkCommand,
  workerCommand,
  schedulerCommand,
  dashboardCommand,
  refreshCommand,
  emitCommand,
  statusCommand,
  logsCommand,
  statsCommand,
  verifyCommand,
  upCommand,
];
