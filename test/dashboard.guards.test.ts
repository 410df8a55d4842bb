import { describe, expect, it } from 'vitest';
import { createHostCheck, hostnameOf, isLoopbackHost, LOOPBACK_HOSTS } from '../src/dashboards/allowed-hosts.js';
import { createAuthThrottle } from '../src/dashboards/auth-throttle.js';
import { createSessionStore } from '../src/dashboards/board-sessions.js';
import { redactDetails } from '../src/dashboards/redact.js';
import { nestsDeeperThan } from '../src/dashboards/request-body.js';

/** The dashboard's guards on their own: host names, nesting, lockouts, sessions, redaction. */
describe('dashboard guards', () => {
  it('reads host names from Host headers and tells loopback names apart', () => {
    expect(['localhost:3000', 'LOCALHOST.', '[::1]:3000', '::1', '127.0.0.1:80'].map(hostnameOf)).toEqual(['localhost', 'localhost', '::1', '::1', '127.0.0.1']);
    for (const host of ['localhost', '127.0.0.1', '127.3.4.5:3000', '[::1]:8080', 'app.localhost']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '127.0.0.1.nip.io']) expect(isLoopbackHost(host), host).toBe(false);

    const defaults = createHostCheck(LOOPBACK_HOSTS);
    expect(['localhost:3000', '127.0.0.1', '[::1]:3000'].every((host) => defaults.allows(host))).toBe(true);
    expect(['evil.example', 'localhost.evil.example', '127.0.0.1.nip.io', '[::2]'].some((host) => defaults.allows(host))).toBe(false);
    const configured = createHostCheck(['dash.example.com', '*.ops.example.com']);
    expect(configured.allows('DASH.example.com:443')).toBe(true);
    expect(configured.allows('a.b.ops.example.com')).toBe(true);
    expect(configured.allows('ops.example.com')).toBe(false);
    expect(configured.allows('evilops.example.com')).toBe(false);
    expect(createHostCheck(['*']).allows('anything.example')).toBe(true);
  });

  it('measures JSON nesting outside strings', () => {
    expect(nestsDeeperThan(`${'['.repeat(65)}${']'.repeat(65)}`, 64)).toBe(true);
    expect(nestsDeeperThan(`${'['.repeat(64)}${']'.repeat(64)}`, 64)).toBe(false);
    expect(nestsDeeperThan(JSON.stringify({ text: '['.repeat(500), escaped: '\\"[[[' }), 64)).toBe(false);
    expect(nestsDeeperThan(`{"a":${'{"b":'.repeat(100)}1${'}'.repeat(100)}}`, 64)).toBe(true);
  });

  it('locks a client out after too many wrong tokens, for the lockout only, and tracks clients separately', () => {
    let now = 0;
    const throttle = createAuthThrottle({ maxFailures: 3, windowMs: 60_000, lockoutMs: 10_000, now: () => now });
    throttle.fail('a');
    throttle.fail('a');
    expect(throttle.retryAfterSeconds('a')).toBe(0);
    throttle.fail('a');
    expect(throttle.retryAfterSeconds('a')).toBe(10);
    expect(throttle.retryAfterSeconds('b')).toBe(0);
    now = 9_500;
    expect(throttle.retryAfterSeconds('a')).toBe(1);
    now = 10_000;
    expect(throttle.retryAfterSeconds('a')).toBe(0);
    // Failures spread wider than the window never add up to a lockout.
    for (let i = 0; i < 10; i += 1) {
      now += 61_000;
      throttle.fail('c');
    }
    expect(throttle.retryAfterSeconds('c')).toBe(0);
  });

  it('keeps sessions until they expire or are revoked, and drops the oldest past the cap', () => {
    let now = 0;
    const sessions = createSessionStore({ ttlMs: 1_000, maxSessions: 2, now: () => now });
    const first = sessions.create();
    const second = sessions.create();
    expect(first.id).not.toBe(second.id);
    expect(first.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sessions.valid(first.id)).toBe(true);
    sessions.revoke(first.id);
    expect(sessions.valid(first.id)).toBe(false);
    const third = sessions.create();
    sessions.create();
    expect(sessions.valid(second.id)).toBe(false);
    expect(sessions.valid(third.id)).toBe(true);
    now = 1_000;
    expect(sessions.valid(third.id)).toBe(false);
  });

  it('cuts error messages to their first line without paths, URLs or addresses', () => {
    expect(redactDetails('canceling statement due to statement timeout')).toBe('canceling statement due to statement timeout');
    expect(redactDetails('connect ECONNREFUSED 127.0.0.1:6379')).toBe('connect ECONNREFUSED [address]');
    expect(redactDetails('connect ECONNREFUSED ::1:6379')).toBe('connect ECONNREFUSED [address]');
    expect(redactDetails('Error: boom\n    at run (/srv/app/dist/x.js:1:2)')).toBe('Error: boom');
    expect(redactDetails('could not open file "/var/lib/postgresql/16/main/base/1/2"')).toBe('could not open file "[path]"');
    expect(redactDetails('cannot reach redis://default:secret@cache.internal:6379/0')).toBe('cannot reach [url]');
    expect(redactDetails('relation "mvfleet.mv_x" does not exist at 12:30:00')).toBe('relation "mvfleet.mv_x" does not exist at 12:30:00');
    expect(redactDetails(null)).toBeNull();
  });
});
