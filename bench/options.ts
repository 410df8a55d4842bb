import { parseArgs } from 'node:util';
import { UsageError } from '../src/core/errors.js';
import { isScaleName, SCALE_NAMES, type ScaleName } from '../examples/demo/seed/scales.js';

/** The scenarios of issue 9, in the order they run; `--quick` runs these. */
export const SCENARIOS = ['reads', 'refresh-overhead', 'event-storm', 'targeted', 'producer', 'fleet', 'metrics-scale', 'capture', 'capture-storm'] as const;
/**
 * Scenarios that run after those in a full run, or when `--only` names them, never by
 * default under `--quick`: they start and restart services of their own for a minute or more.
 */
export const FAULT_SCENARIOS = ['faults'] as const;
export type ScenarioName = (typeof SCENARIOS)[number] | (typeof FAULT_SCENARIOS)[number];
const ALL_SCENARIOS: readonly ScenarioName[] = [...SCENARIOS, ...FAULT_SCENARIOS];

/** How much work each scenario does; `--quick` shrinks every count so the whole run fits in CI. */
export interface Workload {
  /** reads: interleaved MV/live pairs per view (after `readWarmup` unmeasured pairs). */
  readPairs: number;
  readWarmup: number;
  /** refresh-overhead: interleaved rounds (bare, fleet, plain) per view, at least `min`, more while under `budgetMs`. */
  overheadRounds: { min: number; max: number; budgetMs: number };
  /** refresh-overhead: plain vs CONCURRENTLY rounds on the tournament view, per data state. */
  modeRounds: number;
  /** event-storm: events emitted, over `stormSeconds`, and the naive strategies' sample per strategy. */
  stormEvents: number;
  stormSeconds: number;
  naiveSample: number;
  /**
   * targeted: interleaved rounds per keyed view (at least `min`, more while under `budgetMs`);
   * each round times `oneKeyPerRound` targeted refreshes of one dirty key, `manyKeysPerRound`
   * of `manyKeys` keys (fewer when the view's full-rebuild share allows fewer), one full
   * CONCURRENTLY refresh of the view's MV copy and one full rebuild of the table.
   */
  targeted: { rounds: { min: number; max: number; budgetMs: number }; oneKeyPerRound: number; manyKeysPerRound: number; manyKeys: number };
  /** producer: emits per backend and pattern (sequential, 64 in flight), split into interleaved blocks. */
  producerEmits: number;
  producerBlocks: number;
  /** fleet: rounds per worker count (1 and 2 processes alternate). */
  fleetRounds: number;
  /** faults: events per second for `seconds`, with a fault every `faultEveryMs` (the last one 10 s before the end). */
  faults: { seconds: number; rate: number; faultEveryMs: number };
  /** metrics-scale: refresh-log sizes compared, and timed requests per endpoint and size (after a few unmeasured). */
  metricsScale: { logRows: number[]; requests: number };
  /**
   * capture: interleaved blocks (triggers off, then on, alternating) of `blockMs` per write
   * pattern; `batches` 1,000-row INSERT and DELETE batches per block; `lagWrites` committed
   * writes whose lag to a covering refresh is measured.
   */
  capture: { blocks: number; blockMs: number; batches: number; lagWrites: number };
}

const fullWorkload: Workload = {
  readPairs: 2_000,
  readWarmup: 100,
  overheadRounds: { min: 5, max: 15, budgetMs: 15_000 },
  modeRounds: 5,
  stormEvents: 10_000,
  stormSeconds: 10,
  naiveSample: 20,
  targeted: { rounds: { min: 5, max: 10, budgetMs: 60_000 }, oneKeyPerRound: 10, manyKeysPerRound: 2, manyKeys: 100 },
  producerEmits: 4_000,
  producerBlocks: 4,
  fleetRounds: 3,
  faults: { seconds: 60, rate: 60, faultEveryMs: 12_000 },
  metricsScale: { logRows: [10_000, 1_000_000], requests: 40 },
  capture: { blocks: 6, blockMs: 2_000, batches: 10, lagWrites: 200 },
};

const quickWorkload: Workload = {
  readPairs: 200,
  readWarmup: 20,
  overheadRounds: { min: 3, max: 3, budgetMs: 0 },
  modeRounds: 2,
  stormEvents: 1_000,
  stormSeconds: 2,
  naiveSample: 5,
  targeted: { rounds: { min: 2, max: 2, budgetMs: 0 }, oneKeyPerRound: 3, manyKeysPerRound: 1, manyKeys: 100 },
  producerEmits: 400,
  producerBlocks: 2,
  fleetRounds: 1,
  faults: { seconds: 40, rate: 30, faultEveryMs: 7_500 },
  metricsScale: { logRows: [1_000, 10_000], requests: 5 },
  capture: { blocks: 2, blockMs: 300, batches: 2, lagWrites: 20 },
};

export interface BenchOptions {
  scale: ScaleName;
  quick: boolean;
  only: ScenarioName[];
  /** Drop, recreate and seed the bench database even when it already holds the scale. */
  reseed: boolean;
  /** Server URL (its database is used to CREATE the bench database) — flag, else `DATABASE_URL`. */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Name of the bench database. @defaultValue `mvfleet_bench_<scale>` */
  database: string;
  /** Folder the JSON result goes to. @defaultValue bench/results */
  outDir: string | undefined;
  workload: Workload;
}

export const USAGE = `Usage: npm run bench -- [--scale small|medium|large] [--only SCENARIO[,SCENARIO]] [--quick]
       [--reseed] [--database-url URL] [--redis-url URL] [--database NAME] [--out DIR]
Scenarios: ${ALL_SCENARIOS.join(', ')}. --quick runs all but ${FAULT_SCENARIOS.join(', ')} at small scale with reduced
counts (--only ${FAULT_SCENARIOS.join(',')} still runs it).
URLs default to DATABASE_URL and REDIS_URL.`;

export function parseBenchArgs(argv: string[]): BenchOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        scale: { type: 'string' },
        only: { type: 'string', multiple: true },
        quick: { type: 'boolean', default: false },
        reseed: { type: 'boolean', default: false },
        'database-url': { type: 'string' },
        'redis-url': { type: 'string' },
        database: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  if (quick && values.scale !== undefined && values.scale !== 'small') {
    throw new UsageError(`--quick runs at small scale; drop --scale ${values.scale}`);
  }
  const scale = values.scale ?? (quick ? 'small' : 'medium');
  if (!isScaleName(scale)) throw new UsageError(`--scale must be one of ${SCALE_NAMES.join(', ')} (got "${scale}")`);
  const only = (values.only ?? []).flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
  for (const name of only) {
    if (!(ALL_SCENARIOS as readonly string[]).includes(name)) {
      throw new UsageError(`--only must name scenarios among ${ALL_SCENARIOS.join(', ')} (got "${name}")`);
    }
  }
  const database = values.database ?? `mvfleet_bench_${scale}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new UsageError(`--database must be a plain identifier (got "${database}")`);
  return {
    scale,
    quick,
    only: only.length > 0 ? ALL_SCENARIOS.filter((name) => only.includes(name)) : quick ? [...SCENARIOS] : [...ALL_SCENARIOS],
    reseed: values.reseed ?? false,
    databaseUrl: values['database-url'],
    redisUrl: values['redis-url'],
    database,
    outDir: values.out,
    workload: quick ? quickWorkload : fullWorkload,
  };
}
