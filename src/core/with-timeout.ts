/** Rejection of {@link withTimeout}: `work` did not settle in time (it is not cancelled). */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * Rejects with a {@link TimeoutError} when `work` has not settled within `ms`, and clears its
 * timer either way (a pending timer would keep a stopping process alive). Redis commands may
 * wait for a reconnect indefinitely, so probes, scrapes, enqueues and shutdowns bound them.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
