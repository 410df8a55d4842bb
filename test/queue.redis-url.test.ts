import { describe, expect, it } from 'vitest';
import { loadEnv } from '../src/config/env.js';
import { describeRedisTopology, parseRedisUrl } from '../src/queue/redis-url.js';
import { hashTagOf } from '../src/queue/redis-topology-check.js';

describe('queue Redis URL', () => {
  it('reads one server, cluster seed nodes and Sentinels, with TLS and credentials', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toMatchObject({ mode: 'standalone', tls: false, address: { host: '127.0.0.1', port: 6379 } });
    expect(parseRedisUrl('rediss://app:s%40cret@redis.internal/2')).toMatchObject({ mode: 'standalone', tls: true, address: { host: 'redis.internal', port: 6379 } });

    expect(parseRedisUrl('rediss+cluster://app:s%40cret@10.0.0.1:7000,10.0.0.2:7001,[::1]')).toEqual({
      mode: 'cluster',
      tls: true,
      username: 'app',
      password: 's@cret',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 6379 },
      ],
    });

    expect(parseRedisUrl('redis+sentinel://:pw@s1:26380,s2/mymaster/3?sentinelPassword=sp')).toEqual({
      mode: 'sentinel',
      tls: false,
      password: 'pw',
      sentinels: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
      ],
      masterName: 'mymaster',
      db: 3,
      sentinelPassword: 'sp',
    });
  });

  it('describes a topology without its credentials', () => {
    expect(describeRedisTopology(parseRedisUrl('redis+cluster://u:secret@a:1,[::1]:2'))).toBe('Redis Cluster at a:1,[::1]:2');
    expect(describeRedisTopology(parseRedisUrl('redis+sentinel://u:secret@s:26379/main'))).toBe('Redis Sentinel master main at s:26379');
    expect(describeRedisTopology(parseRedisUrl('rediss://u:secret@h:6380'))).toBe('Redis at h:6380');
  });

  it('refuses malformed URLs with a message naming the problem, never the password', () => {
    const refusal = (url: string) => {
      try {
        parseRedisUrl(url);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`accepted ${url}`);
    };
    expect(refusal('redis://a:1,b:2')).toMatch(/names several hosts: write redis\+cluster:\/\//);
    expect(refusal('redis+sentinel://u:hunter2@s1:26379')).toMatch(/must name the master/);
    expect(refusal('redis+cluster://a:1/0')).toMatch(/takes no path/);
    expect(refusal('redis+cluster://a:99999')).toMatch(/malformed host list/);
    expect(refusal('http://a:1')).toMatch(/must look like redis:\/\/host:port/);
    for (const url of ['redis+sentinel://u:hunter2@s1:26379', 'redis+cluster://u:hunter2@a:99999']) expect(refusal(url)).not.toContain('hunter2');
  });

  it('REDIS_URL takes every form, and lists a bad one with the other problems', () => {
    expect(loadEnv({ REDIS_URL: 'redis+cluster://a:7000,b:7001' }).REDIS_URL).toBe('redis+cluster://a:7000,b:7001');
    expect(() => loadEnv({ REDIS_URL: 'redis://a:1,b:2', PORT: 'x' })).toThrow(/REDIS_URL Redis URL names several hosts.*; PORT/);
  });

  it('finds the hash tag Redis Cluster hashes a prefix by', () => {
    expect(hashTagOf('{mvfleet}')).toBe('mvfleet');
    expect(hashTagOf('app:{fleet}:x')).toBe('fleet');
    expect(hashTagOf('{}mvfleet')).toBeUndefined();
    expect(hashTagOf('mvfleet')).toBeUndefined();
    expect(hashTagOf('{mvfleet')).toBeUndefined();
  });
});
