/**
 * The next time a five-field cron pattern fires, for the freshness page when the queue
 * cannot say (no scheduler has synced yet, or the queue is unreachable). It reads the
 * patterns the catalog accepts: `*`, numbers, ranges, steps, lists, and month and weekday
 * names; as in cron, a restricted day-of-month and day-of-week match either.
 */

const FIELDS = [
  { min: 0, max: 59, names: [] },
  { min: 0, max: 23, names: [] },
  { min: 1, max: 31, names: [] },
  { min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
] as const;

interface Field {
  values: Set<number>;
  restricted: boolean;
}

function parseField(text: string, { min, max, names }: (typeof FIELDS)[number]): Field | undefined {
  const values = new Set<number>();
  const value = (token: string): number => {
    const named = (names as readonly string[]).indexOf(token.toLowerCase());
    if (named >= 0) return named + min;
    return /^\d+$/.test(token) ? Number(token) : NaN;
  };
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    const [from, last] = range === '*' ? [min, max] : (range.split('-').map(value) as [number, number | undefined]);
    // `5` alone is one value; `5/10` runs from 5 to the field's end.
    const to = last ?? (stepText === undefined ? from : max);
    if (!(Number.isInteger(from) && Number.isInteger(to) && Number.isInteger(step) && step > 0 && from >= min && to <= max && from <= to)) return undefined;
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return { values, restricted: text !== '*' };
}

const partsFormat = new Map<string, Intl.DateTimeFormat>();

/** Minute, hour, day, month and weekday of `time` on the wall clock of `timeZone`. */
function wallClock(time: number, timeZone: string): [number, number, number, number, number] {
  let format = partsFormat.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', minute: 'numeric', hour: 'numeric', day: 'numeric', month: 'numeric', weekday: 'short' });
    partsFormat.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(time).map((part) => [part.type, part.value]));
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday ?? '');
  return [Number(parts.minute), Number(parts.hour), Number(parts.day), Number(parts.month), weekday];
}

/** The first minute after `after` that `pattern` matches in `timeZone`, or null for a pattern it cannot read or that never fires within a year. */
export function nextCronRun(pattern: string, after: Date, timeZone = 'UTC'): Date | null {
  const texts = pattern.trim().split(/\s+/);
  if (texts.length !== 5) return null;
  const fields = texts.map((text, index) => parseField(text, FIELDS[index]!));
  if (fields.some((field) => field === undefined)) return null;
  const [minutes, hours, days, months, weekdays] = fields as Field[] as [Field, Field, Field, Field, Field];
  if (weekdays.values.has(7)) weekdays.values.add(0);
  const dayMatches = (day: number, weekday: number) =>
    days.restricted && weekdays.restricted ? days.values.has(day) || weekdays.values.has(weekday) : days.values.has(day) && weekdays.values.has(weekday);

  const MINUTE = 60_000;
  let time = Math.floor(after.getTime() / MINUTE) * MINUTE + MINUTE;
  const end = time + 366 * 24 * 60 * MINUTE;
  while (time < end) {
    const [minute, hour, day, month, weekday] = wallClock(time, timeZone);
    // A whole hour that cannot match is skipped at once; zones are offset by whole minutes, so
    // stepping to the next wall-clock hour never jumps over a match.
    if (!months.values.has(month) || !dayMatches(day, weekday) || !hours.values.has(hour)) time += (60 - minute) * MINUTE;
    else if (!minutes.values.has(minute)) time += MINUTE;
    else return new Date(time);
  }
  return null;
}
