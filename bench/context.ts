import type { Redis } from 'ioredis';
import type { Catalog } from '../src/catalog/catalog.js';
import type { DbHandle } from '../src/core/db.js';
import type { BenchOptions, ScenarioName, Workload } from './options.js';

/** What every scenario gets from the runner. */
export interface BenchContext {
  options: BenchOptions;
  workload: Workload;
  catalog: Catalog;
  /** URL of the bench database (`mvfleet_bench_<scale>`). */
  databaseUrl: string;
  redisUrl: string;
  /** Pool on the bench database for setup queries and the scenarios' own reads. */
  db: DbHandle;
  /** An admin Redis connection (INFO, SCAN), not a queue connection. */
  redis: Redis;
  /**
   * A queue prefix of its own for one part of a scenario; the runner deletes its keys after the run.
   * Hash-tagged like the product default, so the same code paths run.
   */
  prefix(label: string): string;
  /** A progress line on stderr. */
  log(line: string): void;
}

/** One figure of the table: a value and its unit, plus what it is (for the reader of the table). */
export interface Figure {
  value: number;
  unit: 'ms' | 'µs' | 'x' | 'count' | 'events/s' | 'bytes' | 's' | '%';
  label: string;
}

/** A scenario's result: figures by key (stable names, quoted by the README) and notes. */
export interface ScenarioResult {
  scenario: ScenarioName;
  figures: Record<string, Figure>;
  notes: string[];
  durationMs: number;
  /** 1-, 5- and 15-minute load averages of the machine when the scenario started and ended (others' work skews figures). */
  load: { start: number[]; end: number[] };
}

export type Scenario = (context: BenchContext) => Promise<Omit<ScenarioResult, 'scenario' | 'durationMs' | 'load'>>;

/** Builds figures in order; `add` skips non-finite values with a note instead of writing NaN to the JSON. */
export function figureSet() {
  const figures: Record<string, Figure> = {};
  const notes: string[] = [];
  return {
    figures,
    notes,
    add(key: string, value: number, unit: Figure['unit'], label: string) {
      if (Number.isFinite(value)) figures[key] = { value, unit, label };
      else notes.push(`${key} (${label}) could not be measured`);
    },
    note(text: string) {
      notes.push(text);
    },
  };
}
