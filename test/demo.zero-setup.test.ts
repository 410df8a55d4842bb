import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../examples/demo/run/free-port.js';
import { runCli } from './helpers/cli.js';
import { useChildProcesses } from './helpers/processes.js';
import { waitUntil } from './helpers/wait.js';

/** PIDs of processes whose command line mentions `text` (the demo's data directory). */
function processesMentioning(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', text], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * `mvfleet demo` with nothing configured: no DATABASE_URL, no REDIS_URL. It starts an
 * embedded PostgreSQL under `.mvfleet/` in its working directory and uses it for the
 * queue too.
 */
/** The repository's config (the example's): the demo runs in a folder of its own. */
const ROOT_CONFIG = fileURLToPath(new URL('../mvfleet.config.ts', import.meta.url));

describe('mvfleet demo', () => {
  const processes = useChildProcesses();
  let workdir = '';
  afterAll(async () => {
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it('serves a live fleet within 60 s, refuses a second instance, stops cleanly on Ctrl-C and reuses its data', async () => {
    workdir = await mkdtemp(path.join(os.tmpdir(), 'mvfleet-demo-'));
    await chmod(workdir, 0o755);
    const port = await freePort();
    const start = () =>
      processes.cli(['demo', '--config', ROOT_CONFIG, '--port', String(port), '--event-interval', '300'], { LOG_LEVEL: 'warn' }, { cwd: workdir, group: true });
    // Ctrl-C in a terminal signals the whole foreground process group, not just the demo.
    const ctrlC = (pid: number) => process.kill(-pid, 'SIGINT');

    const started = Date.now();
    const demo = start();
    await demo.waitFor('press Ctrl-C', 60_000);
    expect(Date.now() - started).toBeLessThan(60_000);
    const dataDir = path.join(workdir, '.mvfleet', 'pg');
    expect(processesMentioning(dataDir).length).toBeGreaterThan(0);

    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('tournament_analytics_summary');
    // Views refresh on their own: the event trickle's refreshes show up in the log.
    await waitUntil('an event-driven refresh', async () => {
      const logs = (await (await fetch(`http://127.0.0.1:${port}/api/views/tournament_analytics_summary/logs?limit=20`)).json()) as {
        reason: string;
        status: string;
      }[];
      return logs.some((row) => row.reason === 'event' && row.status === 'success');
    }, { timeoutMs: 30_000, intervalMs: 200 });

    const second = await runCli(['demo', '--config', ROOT_CONFIG, '--port', String(await freePort())], {}, { cwd: workdir });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/a demo is already running from .*\.mvfleet \(pid \d+\)/);

    ctrlC(demo.child.pid!);
    const exit = await demo.exited;
    expect(exit.code).toBe(0);
    expect(demo.output()).toContain('mvfleet demo: stopped');
    // PostgreSQL stopped last: nothing lost its connection while the fleet was still stopping.
    expect(demo.output()).not.toMatch(/terminating connection due to administrator command/);
    expect(processesMentioning(dataDir)).toEqual([]);

    const again = start();
    await again.waitFor('press Ctrl-C', 60_000);
    expect(again.output()).toMatch(/reusing the demo data/);
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
    expect(processesMentioning(dataDir)).toEqual([]);
  }, 180_000);

  it('a DATABASE_URL on a closed port fails with one line naming host and port, within 10 s', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mvfleet-demo-bad-'));
    const startedAt = Date.now();
    const result = await runCli(['demo'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/app', MVFLEET_CONFIG: ROOT_CONFIG }, { cwd: dir });
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(result.code).toBe(3);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/cannot reach PostgreSQL at 127\.0\.0\.1:9\/app/);
    await rm(dir, { recursive: true, force: true });
  });
});
