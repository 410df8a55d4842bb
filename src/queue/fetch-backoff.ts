import { setTimeout as delay } from 'node:timers/promises';
import type { BackendFactory, IQueueBackend } from 'bullmq';

/** Options for {@link withFetchBackoff}. */
export interface FetchBackoffOptions {
  /**
   * Wait after the first failed fetch, in milliseconds; doubles with each failure in a row.
   * @defaultValue 100
   */
  initialMs?: number;
  /**
   * Longest wait between two failed fetches, in milliseconds.
   * @defaultValue 5_000
   */
  maxMs?: number;
}

export const fetchBackoffDefaults = { initialMs: 100, maxMs: 5_000 } satisfies FetchBackoffOptions;

/**
 * A worker backend whose job fetches back off while they fail.
 *
 * BullMQ's worker loop reports a failed fetch as an `error` event and fetches again at once.
 * An error that does not go away (a MOVED from a cluster node a plain client was pointed at,
 * READONLY from a replica, OOM, a missing permission) then turns into tens of thousands of
 * commands and log lines a second. Here each failed fetch waits before it fails (100 ms,
 * doubling to 5 s; reset by the first success), which paces the whole loop. `stop()` cuts a
 * wait short so a closing worker is not held up.
 */
export function withFetchBackoff(factory: BackendFactory, options: FetchBackoffOptions = {}): { factory: BackendFactory; stop(): void } {
  const { initialMs, maxMs } = { ...fetchBackoffDefaults, ...options };
  const stopped = new AbortController();
  let failuresInARow = 0;

  function paced<A extends unknown[], R>(call: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args) => {
      try {
        const result = await call(...args);
        failuresInARow = 0;
        return result;
      } catch (error) {
        if (!stopped.signal.aborted) {
          failuresInARow += 1;
          const waitMs = Math.min(initialMs * 2 ** (failuresInARow - 1), maxMs);
          await delay(waitMs, undefined, { signal: stopped.signal }).catch(() => {});
        }
        throw error;
      }
    };
  }

  const wrapped: BackendFactory = (name, opts, extra) => {
    const backend: IQueueBackend = factory(name, opts, extra);
    backend.moveToActive = paced(backend.moveToActive.bind(backend));
    backend.waitForJob = paced(backend.waitForJob.bind(backend));
    return backend;
  };
  return { factory: wrapped, stop: () => stopped.abort() };
}
