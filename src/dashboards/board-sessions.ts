import { randomBytes } from 'node:crypto';

/** Options for {@link createSessionStore}. */
export interface SessionStoreOptions {
  /** How long a session lasts after it was created, in milliseconds. */
  ttlMs: number;
  /**
   * Sessions kept at once; past it the oldest is dropped. Bounds the memory a client that
   * logs in over and over can take.
   * @defaultValue 1_000
   */
  maxSessions?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** Browser sessions of the dashboard, held in this process only. */
export interface SessionStore {
  /** Starts a session; returns its id (the cookie value) and when it expires. */
  create(): { id: string; expiresAt: number };
  /** Whether `id` names a session that is neither expired nor revoked. */
  valid(id: string): boolean;
  /** Ends the session; unknown ids are ignored. */
  revoke(id: string): void;
}

/**
 * Sessions are random ids the server remembers, not values derived from the token: logging
 * out or waiting for the expiry makes a captured cookie worthless, which a MAC of the token
 * could never do short of changing the token. They live in memory, so restarting the
 * dashboard ends every session (users unlock again).
 */
export function createSessionStore(options: SessionStoreOptions): SessionStore {
  const maxSessions = options.maxSessions ?? 1_000;
  const now = options.now ?? Date.now;
  // Insertion order is creation order, so the first entry is always the oldest.
  const sessions = new Map<string, number>();

  return {
    create() {
      const id = randomBytes(32).toString('base64url');
      const expiresAt = now() + options.ttlMs;
      sessions.set(id, expiresAt);
      while (sessions.size > maxSessions) sessions.delete(sessions.keys().next().value!);
      return { id, expiresAt };
    },
    valid(id) {
      const expiresAt = sessions.get(id);
      if (expiresAt === undefined) return false;
      if (expiresAt <= now()) {
        sessions.delete(id);
        return false;
      }
      return true;
    },
    revoke(id) {
      sessions.delete(id);
    },
  };
}
