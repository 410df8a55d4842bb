import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../../examples/demo/run/free-port.js';

/** A redis-server of one test's own, without persistence, which the test may kill and start again. */
export interface RestartableRedis {
  url: string;
  /** SIGKILLs the server: everything it held is gone (no RDB, no AOF). Resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts an empty server on the same port; resolves once it answers PING. */
  start(): Promise<void>;
  /** `FLUSHALL` on this server. */
  flushAll(): Promise<void>;
  /** Kills the server if it runs. Idempotent. */
  stop(): Promise<void>;
}

/** Starts `redis-server` (from PATH) on a free port, bound to 127.0.0.1, with persistence off. */
export async function startRestartableRedis(): Promise<RestartableRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let server: { child: ChildProcess; exited: Promise<void> } | undefined;

  async function start(): Promise<void> {
    if (server) throw new Error('redis-server is already running');
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    server = { child, exited };
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', reject);
      void exited.then(() => reject(new Error(`redis-server on port ${port} exited at start:\n${output}`)));
    });
    // Nothing more is read: keep the pipes flowing so the server never blocks on them.
    child.stdout!.resume();
    child.stderr!.resume();
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      await client.ping();
    } finally {
      client.disconnect();
    }
  }

  async function kill(): Promise<void> {
    const running = server;
    if (!running) return;
    server = undefined;
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
    await running.exited;
  }

  await start();
  return {
    url,
    kill,
    start,
    async flushAll() {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await client.connect();
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    stop: kill,
  };
}
