import { loadEnv, type Env } from '../config/env.js';
import { MvfleetError, oneLine } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { CommandContext } from './command.js';
import { commands } from './commands/index.js';

function help(): string {
  const width = Math.max(...commands.map((command) => command.usage.length));
  const lines = commands.map((command) => `  mvfleet ${command.usage.padEnd(width)}  ${command.summary}`);
  return `mvfleet: keep PostgreSQL materialized views fresh with a fleet of BullMQ workers\n\nUsage:\n${lines.join('\n')}\n`;
}

/** Runs one CLI invocation and resolves to its exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`mvfleet: unknown command "${name}" (run mvfleet help)\n`);
    return 2;
  }

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    // A second signal means "now": stop waiting for graceful shutdown.
    if (signals > 1) process.exit(130);
    process.stderr.write(`mvfleet: ${signal} received, stopping (send again to force)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let env: Env | undefined;
  const context: CommandContext = {
    env: () => (env ??= loadEnv()),
    logger: createLogger({ level: safeLogLevel() }),
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
  };
  try {
    return await command.run(args, context);
  } catch (error) {
    process.stderr.write(`mvfleet ${name}: ${oneLine(error)}\n`);
    return error instanceof MvfleetError ? error.exitCode : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The log level must not itself make a command fail before its own validation reports it. */
function safeLogLevel() {
  try {
    return loadEnv().LOG_LEVEL;
  } catch {
    return 'info';
  }
}

process.exitCode = await main(process.argv.slice(2));
