/**
 * `npm run bench [-- --scale small|medium|large] [--only SCENARIO] [--quick]`: the timing
 * claims of issue 9, measured side by side on this machine. Prints a table per scenario and
 * writes every figure, with machine and versions, to bench/results/<timestamp>.json.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createDb } from '../src/core/db.js';
import { loadEnv } from '../src/config/env.js';
import { ConfigError, MvfleetError, oneLine } from '../src/core/errors.js';
import { createRedis } from '../src/queue/redis.js';
import { eventsOnlyCatalog } from './catalogs.js';
import type { BenchContext, Scenario, ScenarioResult } from './context.js';
import { prepareBenchDatabase } from './database.js';
import { loadAverage, machineInfo } from './machine.js';
import { parseBenchArgs, USAGE, type ScenarioName } from './options.js';
import { deletePrefix } from './redis-keys.js';
import { renderReport, writeReport, type BenchReport } from './report.js';
import { captureScenario } from './scenarios/capture.js';
import { captureStormScenario } from './scenarios/capture-storm.js';
import { eventStormScenario } from './scenarios/event-storm.js';
import { faultsScenario } from './scenarios/faults.js';
import { fleetScenario } from './scenarios/fleet.js';
import { metricsScaleScenario } from './scenarios/metrics-scale.js';
import { producerScenario } from './scenarios/producer.js';
import { readsScenario } from './scenarios/reads.js';
import { refreshOverheadScenario } from './scenarios/refresh-overhead.js';
import { targetedScenario } from './scenarios/targeted.js';

const scenarios: Record<ScenarioName, Scenario> = {
  reads: readsScenario,
  'refresh-overhead': refreshOverheadScenario,
  'event-storm': eventStormScenario,
  targeted: targetedScenario,
  producer: producerScenario,
  fleet: fleetScenario,
  faults: faultsScenario,
  'metrics-scale': metricsScaleScenario,
  capture: captureScenario,
  'capture-storm': captureStormScenario,
};

const defaultResultsDir = fileURLToPath(new URL('./results', import.meta.url));

async function main(argv: string[]): Promise<number> {
  const options = parseBenchArgs(argv);
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const env = loadEnv();
  const serverUrl = options.databaseUrl ?? env.DATABASE_URL;
  const redisUrl = options.redisUrl ?? env.REDIS_URL;
  if (!serverUrl) throw new ConfigError('set DATABASE_URL or pass --database-url (the bench creates its own database on that server)');
  if (!redisUrl) throw new ConfigError('set REDIS_URL or pass --redis-url');

  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const started = new Date();
  const prepared = await prepareBenchDatabase({
    serverUrl,
    database: options.database,
    scale: options.scale,
    reseed: options.reseed,
    catalog: eventsOnlyCatalog,
    log,
  });
  const db = createDb({ url: prepared.url, max: 8, applicationName: 'mvfleet-bench' });
  const redis = createRedis({ url: redisUrl });
  redis.on('error', () => {});
  // Prefixes are unique per run, so a crashed run never collides with the next; all are deleted at the end.
  const runId = `${process.pid}-${randomBytes(3).toString('hex')}`;
  const prefixes: string[] = [];
  const context: BenchContext = {
    options,
    workload: options.workload,
    catalog: eventsOnlyCatalog,
    databaseUrl: prepared.url,
    redisUrl,
    db,
    redis,
    prefix(label) {
      const prefix = `{mvfleet-bench-${runId}-${label}}`;
      prefixes.push(prefix);
      return prefix;
    },
    log,
  };
  try {
    const results: Record<string, ScenarioResult> = {};
    for (const name of options.only) {
      log(`scenario ${name}`);
      const start = performance.now();
      const loadAtStart = loadAverage();
      const result = await scenarios[name](context);
      const load = { start: loadAtStart, end: loadAverage() };
      results[name] = { scenario: name, ...result, durationMs: Math.round(performance.now() - start), load };
    }
    const finished = new Date();
    const report: BenchReport = {
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      scale: options.scale,
      quick: options.quick,
      database: { name: options.database, seededThisRun: prepared.seeded, seedMs: prepared.seedMs, seededAt: prepared.seededAt },
      machine: await machineInfo(db.sql, redis),
      scenarios: results,
    };
    process.stdout.write(renderReport(report));
    const file = await writeReport(report, options.outDir ?? defaultResultsDir);
    process.stdout.write(`\nwrote ${file} (${(report.durationMs / 1000).toFixed(1)} s)\n`);
    return 0;
  } finally {
    for (const prefix of prefixes) await deletePrefix(redis, prefix).catch(() => 0);
    redis.disconnect();
    await db.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bench: ${oneLine(error)}\n`);
  process.exitCode = error instanceof MvfleetError ? error.exitCode : 1;
}
