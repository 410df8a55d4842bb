import type { Redis } from 'ioredis';

/** Every key under a BullMQ prefix (`<prefix>:<queue>:…`), by SCAN so Redis is never blocked. */
async function* keysOf(redis: Redis, prefix: string): AsyncGenerator<string[]> {
  // The bench's prefixes hold no glob characters other than braces, which SCAN MATCH takes literally.
  const stream = redis.scanStream({ match: `${prefix}:*`, count: 1_000 });
  for await (const keys of stream as AsyncIterable<string[]>) if (keys.length > 0) yield keys;
}

/** Deletes a prefix's keys: the bench's queues must not outlive the run. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of keysOf(redis, prefix)) deleted += await redis.unlink(...keys);
  return deleted;
}

/** Keys and bytes (`MEMORY USAGE`) held under a prefix: the fleet's own share of Redis memory. */
export async function prefixFootprint(redis: Redis, prefix: string): Promise<{ keys: number; bytes: number }> {
  let keys = 0;
  let bytes = 0;
  for await (const batch of keysOf(redis, prefix)) {
    keys += batch.length;
    const pipeline = redis.pipeline();
    for (const key of batch) pipeline.memory('USAGE', key);
    for (const [, value] of (await pipeline.exec()) ?? []) bytes += Number(value ?? 0);
  }
  return { keys, bytes };
}

/** `used_memory` from `INFO memory`: the whole server's, so other tenants of a shared Redis add noise. */
export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
}
