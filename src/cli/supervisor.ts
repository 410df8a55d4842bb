import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../core/logger.js';

/**
 * The long-running commands (`worker`, `scheduler`, `dashboard`, `up`) run their role in a
 * child process of the `mvfleet` process, which starts it again when it dies unexpectedly.
 * A crash the role cannot catch (postgres.js can throw from a timer of its own when
 * PostgreSQL restarts, porsager/postgres#1208) then costs a restart of the role, not the
 * whole process.
 */

/** The internal flag a supervised child is started with (never typed by a user). */
export const SUPERVISED_CHILD_FLAG = '--supervised-role';

/** What a supervised child sends its supervisor when its command returned (as opposed to dying). */
export interface FinishedMessage {
  mvfleet: 'finished';
  code: number;
}

export function isFinishedMessage(message: unknown): message is FinishedMessage {
  return typeof message === 'object' && message !== null && (message as FinishedMessage).mvfleet === 'finished';
}

/** Options for {@link superviseRole}. */
export interface SuperviseOptions {
  /** Script the child runs: the `mvfleet` executable. */
  entry: string;
  /** CLI arguments of the role (`['worker', '--concurrency', '4']`), passed through unchanged. */
  args: string[];
  /** Name of the role, for logs. */
  role: string;
  logger: Logger;
  /** Aborted on the first SIGINT/SIGTERM: forwarded to the child, which stops gracefully. */
  signal: AbortSignal;
  /** Aborted on a second signal: the child is killed at once. */
  force: AbortSignal;
  /**
   * Delay before the first restart; it doubles with each crash in a row.
   * @defaultValue 500
   */
  initialDelayMs?: number;
  /**
   * Cap of the restart delay. Low, because the usual reason for a restart (PostgreSQL or the
   * queue restarting) ends by itself, and pending refreshes wait on the role in the meantime;
   * a crash loop costs one connection attempt per cap.
   * @defaultValue 5000
   */
  maxDelayMs?: number;
  /**
   * A child that ran this long before dying was healthy: it restarts after `initialDelayMs`
   * again. Only a crash loop (children dying sooner than this) pays the doubling delay, so a
   * worker that outlived one PostgreSQL restart is not kept down for half a minute by the next.
   * @defaultValue 10000
   */
  healthyAfterMs?: number;
}

/** What a usage or config error exits with (`UsageError`, `ConfigError`): restarting cannot fix it. */
const USAGE_EXIT_CODE = 2;

const superviseDefaults = { initialDelayMs: 500, maxDelayMs: 5_000, healthyAfterMs: 10_000 } satisfies Pick<
  Required<SuperviseOptions>,
  'initialDelayMs' | 'maxDelayMs' | 'healthyAfterMs'
>;

interface RunOutcome {
  /** The exit code the command returned, when it returned (it did not die). */
  finished: number | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the child wrote to stderr, where Node prints an uncaught exception. */
  stderrTail: string;
  ranMs: number;
}

/**
 * Runs the role in a child until it finishes on its own terms and resolves to that exit code:
 * a normal stop, or an error its command returned on the first start (a usage, config or
 * connection error fails fast, as without a supervisor). A child that dies instead (uncaught
 * exception, killed) is logged with its cause and started again after a delay that doubles
 * while children keep dying young (capped); so is a restarted child whose command fails (other than on usage or config), since
 * what killed its predecessor (PostgreSQL restarting) may still be going on. SIGINT/SIGTERM
 * reach the child through `signal`.
 */
export async function superviseRole(options: SuperviseOptions): Promise<number> {
  const { entry, args, role, logger, signal, force } = options;
  const { initialDelayMs, maxDelayMs, healthyAfterMs } = { ...superviseDefaults, ...options };
  let restartDelay = initialDelayMs;
  for (let restarts = 0; ; restarts += 1) {
    const outcome = await runChild(entry, args, signal, force);
    const { finished } = outcome;
    if (finished !== null && (signal.aborted || restarts === 0 || finished === 0 || finished === USAGE_EXIT_CODE)) return finished;
    const how = outcome.signal ? `signal ${outcome.signal}` : `exit code ${outcome.code}`;
    if (finished === null && signal.aborted) {
      // It was asked to stop and died doing so: nothing to restart.
      logger.error({ role, cause: crashCause(outcome.stderrTail) }, `${role} died while stopping (${how})`);
      return outcome.code || 1;
    }
    if (outcome.ranMs >= healthyAfterMs) restartDelay = initialDelayMs;
    const what = finished === null ? `died unexpectedly (${how})` : `failed to start again (${how})`;
    logger.error(
      { role, cause: crashCause(outcome.stderrTail), restart: restarts + 1, delayMs: restartDelay },
      `${role} ${what}; restarting the role in ${restartDelay} ms`,
    );
    const stopped = await delay(restartDelay, true, { signal }).catch(() => false);
    if (!stopped) return 0;
    restartDelay = Math.min(restartDelay * 2, maxDelayMs);
  }
}

function runChild(entry: string, args: string[], signal: AbortSignal, force: AbortSignal): Promise<RunOutcome> {
  const started = Date.now();
  // Its own process group: Ctrl-C in a terminal reaches the supervisor only, which forwards
  // it once (a child signalled twice would take it as "force").
  const child: ChildProcess = fork(entry, [...args, SUPERVISED_CHILD_FLAG], {
    stdio: ['inherit', 'inherit', 'pipe', 'ipc'],
    detached: true,
  });
  let finished: number | null = null;
  let stderrTail = '';
  child.on('message', (message) => {
    if (isFinishedMessage(message)) finished = message.code;
  });
  child.stderr!.pipe(process.stderr, { end: false });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4_000);
  });
  const stop = () => child.kill(lastSignal(signal));
  const kill = () => child.kill('SIGKILL');
  signal.addEventListener('abort', stop, { once: true });
  force.addEventListener('abort', kill, { once: true });
  if (signal.aborted) stop();
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // 'close' comes after the IPC channel and stderr are drained: the finished message and
    // the last words of a crash are in by then.
    child.once('close', (code, exitSignal) => {
      signal.removeEventListener('abort', stop);
      force.removeEventListener('abort', kill);
      resolve({ finished, code, signal: exitSignal, stderrTail, ranMs: Date.now() - started });
    });
  });
}

/** The signal the supervisor received, to send the same one on (SIGTERM when unknown). */
function lastSignal(signal: AbortSignal): NodeJS.Signals {
  return signal.reason === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
}

/** The line of an uncaught exception in what a child wrote last, else its last line. */
function crashCause(stderrTail: string): string {
  const lines = stderrTail.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.find((line) => /^\w*(Error|Exception)(: |$)/.test(line)) ?? lines.at(-1) ?? 'no output';
}
