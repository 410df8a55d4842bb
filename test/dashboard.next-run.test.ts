import { describe, expect, it } from 'vitest';
import { formatNextRun } from '../src/dashboards/format.js';
import { nextCronRun } from '../src/dashboards/next-cron-run.js';

/** The freshness page's next-run column: a time, also when only the cron pattern is known. */
describe('dashboard next run', () => {
  const now = new Date('2026-12-02T21:08:00Z');

  it('reads as a wait and a clock time in UTC, with the date beyond a day', () => {
    expect(formatNextRun('2026-12-03T02:00:00.000Z', now)).toBe('in 4 h 52 m, 02:00 UTC');
    expect(formatNextRun(new Date('2026-12-02T21:20:00Z'), now)).toBe('in 12 m, 21:20 UTC');
    expect(formatNextRun('2026-12-02T21:08:40Z', now)).toBe('in 40 s, 21:08 UTC');
    expect(formatNextRun('2026-12-05T02:00:00Z', now)).toBe('in 2 d 4 h, Dec 5 02:00 UTC');
    expect(formatNextRun('2026-12-02T21:07:00Z', now)).toBe('due now, 21:07 UTC');
  });

  it('computes the next run of a five-field cron pattern in a time zone', () => {
    const next = (pattern: string, timeZone = 'UTC') => nextCronRun(pattern, now, timeZone)?.toISOString() ?? null;
    expect(next('0 2 * * *')).toBe('2026-12-03T02:00:00.000Z');
    expect(next('0 2 * * *', 'Europe/Paris')).toBe('2026-12-03T01:00:00.000Z');
    expect(next('*/15 * * * *')).toBe('2026-12-02T21:15:00.000Z');
    expect(next('30 8 * * mon-fri')).toBe('2026-12-03T08:30:00.000Z');
    expect(next('0 3 * * 0')).toBe('2026-12-06T03:00:00.000Z');
    expect(next('0 3 * * 7')).toBe('2026-12-06T03:00:00.000Z');
    // Day of month and day of week both restricted: either matches, as in cron.
    expect(next('0 0 1 * fri')).toBe('2026-12-04T00:00:00.000Z');
    expect(next('0 0 1 1 *')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('0 0 30 2 *')).toBeNull();
    expect(next('not a pattern')).toBeNull();
    expect(next('61 * * * *')).toBeNull();
  });
});
