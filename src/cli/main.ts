import { loadEnv, type Env } from '../config/env.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { ConfigError, MvfleetError, oneLine, sqlStateOf, UsageError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { Command, CommandContext } from '../config/define-config.js';
import { commands as builtInCommands } from './commands/index.js';
import { connectDatabase, connectQueueBackend } from './services.js';
import { SUPERVISED_CHILD_FLAG, superviseRole, type FinishedMessage } from './supervisor.js';

/** Long-running roles: the `mvfleet` process supervises them in a child (see supervisor.ts). */
const SUPERVISED_COMMANDS = new Set(['worker', 'scheduler', 'dashboard', 'up']);

function help(commands: readonly Command[], note: string): string {
  const width = Math.max(...commands.map((command) => command.usage.length));
  const lines = commands.map((command) => `  mvfleet ${command.usage.padEnd(width)}  ${command.summary}`);
  return (
    'mvfleet: keep PostgreSQL materialized views fresh with a fleet of BullMQ workers\n\n' +
    `Usage:\n${lines.join('\n')}\n\n` +
    'Every command reads mvfleet.config.ts (or .mts, .js, .mjs) in the working directory;\n' +
    `--config PATH or MVFLEET_CONFIG names another file.${note}\n`
  );
}

/** Takes `--config PATH` / `--config=PATH` out of the arguments, wherever it stands. */
function extractConfigFlag(argv: string[]): { args: string[]; configPath: string | undefined } {
  const args: string[] = [];
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--config') {
      configPath = argv[i + 1];
      if (configPath === undefined || configPath.startsWith('--')) throw new UsageError('--config needs a path');
      i += 1;
    } else if (arg.startsWith('--config=')) {
      configPath = arg.slice('--config='.length);
    } else {
      args.push(arg);
    }
  }
  return { args, configPath };
}

/**
 * Runs one CLI invocation and resolves to its exit code; never throws. A supervised child
 * (started by the supervisor with its internal flag) tells its supervisor the code it
 * returned, so that only a process that dies is restarted.
 */
export async function main(argv: string[]): Promise<number> {
  if (!argv.includes(SUPERVISED_CHILD_FLAG)) return runInvocation(argv, false);
  const code = await runInvocation(argv.filter((arg) => arg !== SUPERVISED_CHILD_FLAG), true);
  if (process.connected) {
    const finished: FinishedMessage = { mvfleet: 'finished', code };
    await new Promise((resolve) => process.send!(finished, resolve));
    process.disconnect();
  }
  return code;
}

async function runInvocation(argv: string[], supervised: boolean): Promise<number> {
  let args: string[];
  let configPath: string | undefined;
  try {
    ({ args, configPath } = extractConfigFlag(argv));
  } catch (error) {
    process.stderr.write(`mvfleet: ${oneLine(error)}\n`);
    return 2;
  }
  let env: Env | undefined;
  const readEnv = () => (env ??= loadEnv());
  let loaded: Promise<LoadedConfig> | undefined;
  const config = () => (loaded ??= loadConfig({ explicit: configPath ?? readEnv().MVFLEET_CONFIG }).then(refuseShadowedCommands));

  const [name, ...rest] = args;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    // Help lists the config's own commands when there is a config; it never fails without one.
    const extra = await config().then(
      (found) => ({ commands: found.config.commands ?? [], note: `\nConfig: ${found.path}` }),
      () => ({ commands: [], note: '' }),
    );
    process.stdout.write(help([...builtInCommands, ...extra.commands], extra.note));
    return name ? 0 : 2;
  }

  const controller = new AbortController();
  const force = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    // A second signal means "now": stop waiting for graceful shutdown (a supervised child is killed).
    if (signals > 1) {
      force.abort();
      process.exit(130);
    }
    // A supervised child stays quiet: its supervisor has said it.
    if (!supervised) process.stderr.write(`mvfleet: ${signal} received, stopping (send again to force)\n`);
    controller.abort(signal);
  };
  // A supervised child whose supervisor is gone (killed) stops as if signalled: never an orphan.
  const onOrphaned = () => controller.abort('SIGTERM');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (supervised) process.on('disconnect', onOrphaned);

  const context: CommandContext = {
    env: readEnv,
    config,
    connectDatabase: (applicationName, options) => connectDatabase(readEnv(), applicationName, options),
    connectQueue: (role) => connectQueueBackend(readEnv(), role),
    logger: createLogger({ level: safeLogLevel() }),
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
  };
  try {
    if (!supervised && SUPERVISED_COMMANDS.has(name)) {
      return await superviseRole({
        entry: process.argv[1]!,
        args: argv,
        role: name,
        logger: context.logger,
        signal: controller.signal,
        force: force.signal,
      });
    }
    const command = await findCommand(name, config);
    return await command.run(rest, context);
  } catch (error) {
    // An undefined table: the database was not migrated (or by an older mvfleet).
    const hint = sqlStateOf(error) === '42P01' ? ' (run mvfleet migrate)' : '';
    process.stderr.write(`mvfleet ${name}: ${oneLine(error)}${hint}\n`);
    return error instanceof MvfleetError ? error.exitCode : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('disconnect', onOrphaned);
  }
}

/** A built-in command, else one the config adds; built-ins never need the config to be found. */
async function findCommand(name: string, config: () => Promise<LoadedConfig>): Promise<Command> {
  const builtIn = builtInCommands.find((candidate) => candidate.name === name);
  if (builtIn) return builtIn;
  let found: LoadedConfig;
  try {
    found = await config();
  } catch (error) {
    throw new UsageError(`unknown command "${name}" (run mvfleet help); the config could not be loaded: ${oneLine(error)}`);
  }
  const extra = found.config.commands?.find((candidate) => candidate.name === name);
  if (!extra) throw new UsageError(`unknown command "${name}" (run mvfleet help)`);
  return extra;
}

function refuseShadowedCommands(loaded: LoadedConfig): LoadedConfig {
  const taken = (loaded.config.commands ?? []).filter((command) => builtInCommands.some((builtIn) => builtIn.name === command.name));
  if (taken.length > 0) {
    throw new ConfigError(`invalid config ${loaded.path}:\n  - commands: ${taken.map((c) => c.name).join(', ')} is a built-in command`);
  }
  return loaded;
}

/** The log level must not itself make a command fail before its own validation reports it. */
function safeLogLevel() {
  try {
    return loadEnv().LOG_LEVEL;
  } catch {
    return 'info';
  }
}
