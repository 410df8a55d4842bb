import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freeClusterPort, redisCli, startRedisServer, type RedisServerProcess } from './redis-server-process.js';

/** A Redis Cluster of three masters (no replicas) this test run started in a temp dir. */
export interface TestRedisCluster {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`. */
  url: string;
  /** A plain `redis://` URL of one node, for the misconfigured-client tests. */
  nodeUrl: string;
  nodes: RedisServerProcess[];
  /** Kills every node by PID and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts three `redis-server --cluster-enabled yes` on free ports, joins them with
 * `redis-cli --cluster create`, and resolves once every node reports `cluster_state:ok`.
 * Nothing of the machine's own Redis is touched.
 */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'mvfleet-redis-cluster-'));
  const nodes: RedisServerProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const port = await freeClusterPort(taken);
      nodes.push(
        await startRedisServer(port, [
          '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout', '2000',
          '--dir', dir,
        ]),
      );
    }
    await redisCli(nodes[0]!.port, '--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-yes');
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      while (!(await redisCli(node.port, 'cluster', 'info')).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`Redis Cluster node ${node.port} did not reach cluster_state:ok`);
        await delay(100);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `redis+cluster://${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`,
    nodeUrl: `redis://127.0.0.1:${nodes[0]!.port}`,
    nodes,
    stop,
  };
}
