import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDb } from '../src/core/db.js';
import { minimalChildEnv } from '../src/config/env.js';
import { SCENARIOS } from '../bench/options.js';
import type { BenchReport } from '../bench/report.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/**
 * CI runs the benchmark harness so it cannot rot: `npm run bench -- --quick` must exit 0
 * and write a report with every scenario and only finite figures. The values themselves
 * are timing claims and belong to `npm run bench`, not to a test.
 */
describe('npm run bench -- --quick', () => {
  // The URLs global-setup resolved (TEST_DATABASE_URL / TEST_REDIS_URL, or its fallbacks).
  const serverUrl = inject('postgresUrl');
  const redisUrl = inject('redisUrl');
  // Named like the suite's own databases, so a crashed run's copy is dropped by the next run.
  const database = `${inject('templateDatabase').replace(/template$/, '')}bench`;
  let outDir: string | undefined;

  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
    const admin = createDb({ url: serverUrl, max: 1 });
    await admin.sql.unsafe(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.close();
  });

  it('exits 0 and writes a JSON report with every scenario and finite figures', async () => {
    outDir = await mkdtemp(path.join(os.tmpdir(), 'mvfleet-bench-'));
    const args = ['run', '--silent', 'bench', '--', '--quick', '--database-url', serverUrl, '--redis-url', redisUrl];
    const run = await runNpm([...args, '--database', database, '--out', outDir], 150_000);
    expect(run.code, run.output).toBe(0);

    const files = (await readdir(outDir)).filter((file) => file.endsWith('.json'));
    expect(files).toHaveLength(1);
    const report = JSON.parse(await readFile(path.join(outDir, files[0]!), 'utf8')) as BenchReport;
    expect(report.quick).toBe(true);
    expect(report.scale).toBe('small');
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(Object.keys(report.scenarios).sort()).toEqual([...SCENARIOS].sort());
    for (const result of Object.values(report.scenarios)) {
      const figures = Object.entries(result.figures);
      expect(figures.length, result.scenario).toBeGreaterThan(0);
      for (const [key, figure] of figures) expect(Number.isFinite(figure.value), `${result.scenario} ${key}`).toBe(true);
    }
    // The headline figures the README quotes must be there.
    expect(report.scenarios['refresh-overhead']!.figures).toHaveProperty(['all.pickup_p99_ms']);
    expect(report.scenarios['event-storm']!.figures).toHaveProperty(['lag.all.p99_ms']);
    expect(report.scenarios.producer!.figures).toHaveProperty(['redis.sequential.throughput']);
    const targeted = report.scenarios.targeted!.figures;
    for (const view of ['tournament_analytics_summary', 'mv_revenue_by_project_month']) {
      expect(targeted).toHaveProperty([`${view}.ratio.concurrent_over_1key`]);
      expect(targeted).toHaveProperty([`storm.lag.${view}.p99_ms`]);
    }
    for (const result of Object.values(report.scenarios)) expect(result.load.start, result.scenario).toHaveLength(3);
  }, 180_000);
});

function runNpm(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd: REPO, env: minimalChildEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm ${args.join(' ')} did not exit within ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
