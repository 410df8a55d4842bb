/** Options for {@link createAuthThrottle}. */
export interface AuthThrottleOptions {
  /** Wrong tokens one client may send within `windowMs` before it is locked out. */
  maxFailures: number;
  /** Window the failures are counted in, in milliseconds. */
  windowMs: number;
  /** How long a locked-out client is refused, in milliseconds. */
  lockoutMs: number;
  /**
   * Clients tracked at once; past it the longest-tracked is forgotten, so a flood of
   * addresses cannot grow the table without bound.
   * @defaultValue 10_000
   */
  maxClients?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** Counts wrong tokens per client address and locks out the clients that send too many. */
export interface AuthThrottle {
  /** Seconds until `client` may try again, or 0 when it is not locked out. */
  retryAfterSeconds(client: string): number;
  /** Records a wrong token from `client`. */
  fail(client: string): void;
}

interface ClientRecord {
  windowStart: number;
  failures: number;
  lockedUntil: number;
}

export function createAuthThrottle(options: AuthThrottleOptions): AuthThrottle {
  const maxClients = options.maxClients ?? 10_000;
  const now = options.now ?? Date.now;
  const clients = new Map<string, ClientRecord>();

  return {
    retryAfterSeconds(client) {
      const record = clients.get(client);
      const wait = record ? record.lockedUntil - now() : 0;
      return wait > 0 ? Math.ceil(wait / 1_000) : 0;
    },
    fail(client) {
      const at = now();
      let record = clients.get(client);
      if (!record || at - record.windowStart > options.windowMs) {
        clients.delete(client);
        record = { windowStart: at, failures: 0, lockedUntil: 0 };
        clients.set(client, record);
        while (clients.size > maxClients) clients.delete(clients.keys().next().value!);
      }
      record.failures += 1;
      if (record.failures >= options.maxFailures) {
        record.lockedUntil = at + options.lockoutMs;
        // A new window starts when the lockout ends, so the next failure after it is the first.
        record.windowStart = record.lockedUntil;
        record.failures = 0;
      }
    },
  };
}
