import type { SeedContext } from './context.js';

/** Rows one INSERT … SELECT writes: small enough to report progress every second or so. */
const ROWS_PER_CHUNK = 100_000;

/** One chunk: an inclusive range of parent ids. */
export interface IdRange {
  first: number;
  last: number;
}

/** Splits parent ids `1..parents` into ranges whose children add up to about {@link ROWS_PER_CHUNK} rows. */
export function planChunks(parents: number, rowsPerParent: number): IdRange[] {
  const chunkCount = Math.max(1, Math.ceil((parents * rowsPerParent) / ROWS_PER_CHUNK));
  const size = Math.ceil(parents / chunkCount);
  const ranges: IdRange[] = [];
  for (let first = 1; first <= parents; first += size) {
    ranges.push({ first, last: Math.min(parents, first + size - 1) });
  }
  return ranges;
}

/**
 * Runs `insert` once per range of parent ids, reporting progress under `step`, and
 * returns the number of rows written.
 */
export async function insertInChunks(
  ctx: SeedContext,
  step: string,
  chunks: { parents: number; rowsPerParent: number },
  insert: (range: IdRange) => Promise<{ count: number }>,
): Promise<number> {
  const ranges = planChunks(chunks.parents, chunks.rowsPerParent);
  let rows = 0;
  for (const [index, range] of ranges.entries()) {
    rows += (await insert(range)).count;
    ctx.report(step, index + 1, ranges.length);
  }
  return rows;
}
