/** One progress update of the seeder: `done` of `total` chunks of `step` are written. */
export interface SeedProgress {
  /** What is being written: a table name, or `truncate`, `sequences`, `analyze`. */
  step: string;
  done: number;
  total: number;
}

/** Options for {@link createProgressReporter}. */
export interface ProgressReporterOptions {
  /** Where to write, e.g. `process.stderr`. */
  stream: { write(text: string): unknown; isTTY?: boolean };
  /**
   * Redraw one bar per step in place (`\r`) instead of printing one line per update.
   * @defaultValue `stream.isTTY`
   */
  interactive?: boolean;
}

const BAR_WIDTH = 24;

/**
 * Returns an `onProgress` callback for {@link seedDemo}: on a terminal a bar per step,
 * redrawn in place (`seed: registrations [######------]  3/10`); otherwise plain lines
 * (`seed: registrations 3/10`) that read well in CI logs.
 */
export function createProgressReporter(options: ProgressReporterOptions): (progress: SeedProgress) => void {
  const { stream } = options;
  const interactive = options.interactive ?? stream.isTTY === true;
  if (!interactive) {
    return ({ step, done, total }) => void stream.write(`seed: ${step} ${done}/${total}\n`);
  }
  return ({ step, done, total }) => {
    const filled = total > 0 ? Math.round((done / total) * BAR_WIDTH) : BAR_WIDTH;
    const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
    const count = `${done}/${total}`.padStart(2 * String(total).length + 1);
    stream.write(`\rseed: ${step} [${bar}] ${count}${done >= total ? '\n' : ''}`);
  };
}
