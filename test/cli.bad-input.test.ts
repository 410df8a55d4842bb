import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/database.js';

/** Bad input gets one clear line on stderr, a non-zero exit, and changes nothing. */
describe('mvfleet CLI bad input', () => {
  const db = useTestDatabase();

  const expectOneLineError = (result: { code: number | null; stderr: string; stdout: string }, pattern: RegExp) => {
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(pattern);
  };

  it('seed --scale huge names the allowed scales and loads nothing', async () => {
    const result = await runCli(['seed', '--scale', 'huge'], { DATABASE_URL: db.url });
    expectOneLineError(result, /--scale must be one of small, medium, large \(got "huge"\)/);
    const [{ count }] = await db.sql<[{ count: number }]>`SELECT count(*)::int AS count FROM tournaments`;
    expect(count).toBe(0);
  });

  it('an unreachable DATABASE_URL names host and port, quickly', async () => {
    const started = Date.now();
    const result = await runCli(['seed', '--scale', 'small'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/nowhere' });
    expectOneLineError(result, /cannot reach PostgreSQL at 127\.0\.0\.1:9\/nowhere: connection refused/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('a malformed DATABASE_URL is reported as such', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: 'mysql://nope' });
    expectOneLineError(result, /invalid environment: DATABASE_URL must start with postgres:\/\//);
  });

  it('unknown commands and options fail with usage errors', async () => {
    expectOneLineError(await runCli(['frobnicate']), /unknown command "frobnicate"/);
    expectOneLineError(await runCli(['seed', '--scael', 'small'], { DATABASE_URL: db.url }), /Unknown option '--scael'/);
  });
});
