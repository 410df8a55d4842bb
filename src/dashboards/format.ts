/** `42s`, `12m`, `3h 05m`, `2d 4h`. */
export function formatAge(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h ${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3_600)}h`;
}

/** `850 ms`, `4.2 s`, `3m`, `1h 05m`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '–';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return formatAge(ms / 1_000);
}

/** `512 B`, `1.5 kB`, `12.3 MB`. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '–';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1_024 && unit < units.length - 1) {
    value /= 1_024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `in 42m`, `3m ago`, `just now`, relative to `now`. */
export function formatRelative(iso: string, now: Date): string {
  const seconds = (new Date(iso).getTime() - now.getTime()) / 1_000;
  if (Math.abs(seconds) < 5) return 'just now';
  return seconds > 0 ? `in ${formatAge(seconds)}` : `${formatAge(-seconds)} ago`;
}

/** `12,345`. */
export function formatCount(value: number | null): string {
  return value === null ? '–' : value.toLocaleString('en-US');
}

/** `1 key`, `1,204 keys`. */
export function formatKeys(count: number): string {
  return `${formatCount(count)} ${count === 1 ? 'key' : 'keys'}`;
}

/**
 * What a refresh did: `targeted (3 keys)`, `full (0 keys)` for a keyed view, `full` for a
 * view without keys, `–` when no strategy was recorded.
 */
export function formatStrategy(strategy: string | null, keysRefreshed: number | null): string {
  if (strategy === null) return '–';
  return keysRefreshed === null ? strategy : `${strategy} (${formatKeys(keysRefreshed)})`;
}

/** `4 h 52 m`, `12 m`, `45 s`, `2 d 4 h`: a wait spelled out for the next-run column. */
function formatWait(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3_600) return `${Math.floor(s / 60)} m`;
  if (s < 86_400) return `${Math.floor(s / 3_600)} h ${Math.floor((s % 3_600) / 60)} m`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3_600)} h`;
}

/**
 * When a scheduled run comes, relative and on the clock: `in 4 h 52 m, 02:00 UTC`; a run more
 * than a day away names its date (`in 3 d 2 h, Dec 5 02:00 UTC`); a past one `due now`.
 */
export function formatNextRun(at: string | Date, now: Date): string {
  const time = new Date(at);
  const seconds = (time.getTime() - now.getTime()) / 1_000;
  const clock = time.toISOString().slice(11, 16);
  const when = seconds < 86_400 ? `${clock} UTC` : `${time.toLocaleString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' })} ${clock} UTC`;
  return seconds < 30 ? `due now, ${when}` : `in ${formatWait(seconds)}, ${when}`;
}

/** `2026-01-31 12:00:00` (UTC, no zone suffix). */
export function formatUtc(date: Date): string {
  return date.toISOString().replace('T', ' ').slice(0, 19);
}
