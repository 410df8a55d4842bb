import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One `redis-server` this test run started; killed by its PID, never by name. */
export interface RedisServerProcess {
  port: number;
  pid: number;
  /** SIGKILLs the server (idempotent); resolves once it has exited. */
  kill(): Promise<void>;
}

/**
 * Starts `redis-server` (from PATH) with `args` on 127.0.0.1:`port`, without persistence;
 * resolves once it logs that it accepts connections. Its output is kept for the error when
 * it exits at start. With `tls`, `port` is the TLS port and the plain port is off (`args`
 * then carry the `--tls-*-file` settings).
 */
export async function startRedisServer(
  port: number,
  args: string[],
  options: { sentinel?: boolean; tls?: boolean } = {},
): Promise<RedisServerProcess> {
  // A Sentinel takes its settings from its (writable) config file; persistence is not its business.
  const persistence = options.sentinel ? ['--sentinel'] : ['--save', '', '--appendonly', 'no'];
  const listen = options.tls ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
  const child: ChildProcess = spawn(
    'redis-server',
    [...args, ...persistence, ...listen, '--bind', '127.0.0.1', '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Ready to accept connections|Sentinel ID is/.test(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', reject);
    void exited.then(() => reject(new Error(`redis-server on port ${port} exited at start:\n${output}`)));
  });
  // Nothing more is read: keep the pipes flowing so the server never blocks on them.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    port,
    pid: child.pid!,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** `redis-cli -p port args…`, its output trimmed. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]);
  return stdout.trim();
}

/**
 * A free port whose cluster bus port (port + 10000) is free too, below 55536 so the bus port
 * exists. Ports are picked at random and checked by binding them.
 */
export async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (taken.has(port) || taken.has(port + 10_000) || taken.has(port - 10_000)) continue;
    if ((await canBind(port)) && (await canBind(port + 10_000))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
