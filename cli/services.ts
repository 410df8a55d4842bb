import { createDb, type DbHandle } from '../core/db.js';
import { ConfigError } from '../core/errors.js';
import type { CommandContext } from './command.js';

/** Connects to `DATABASE_URL`, failing fast with host and port when it cannot be reached. */
export async function connectDatabase(context: CommandContext, applicationName = 'mvfleet-cli'): Promise<DbHandle> {
  const url = context.env().DATABASE_URL;
  if (!url) throw new ConfigError('DATABASE_URL is not set (e.g. postgres://user:password@127.0.0.1:5432/app)');
  const handle = createDb({ url, applicationName });
  try {
    await handle.ping();
  } catch (error) {
    await handle.close(0);
    throw error;
  }
  return handle;
}
