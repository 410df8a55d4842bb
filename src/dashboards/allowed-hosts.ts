import type { MiddlewareHandler } from 'hono';

/** Names that reach this machine only: what the dashboard answers to unless told otherwise. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/** The host name of a `Host` header: lower case, without port, brackets or a trailing dot. */
export function hostnameOf(host: string): string {
  const trimmed = host.trim().toLowerCase();
  let name = trimmed;
  if (trimmed.startsWith('[')) name = trimmed.slice(1).replace(/\].*$/, '');
  // A bare IPv6 address (two or more colons) has no port to strip.
  else if (trimmed.split(':').length <= 2) name = trimmed.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

/** Whether an interface or host name is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const name = hostnameOf(host);
  return name === 'localhost' || name.endsWith('.localhost') || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** Whether a listen address accepts connections on every interface. */
export function isWildcardAddress(host: string): boolean {
  return ['0.0.0.0', '::', '[::]', ''].includes(host.trim());
}

/** The set of host names the dashboard answers to. */
export interface HostCheck {
  allows(host: string): boolean;
  /** Allows one more pattern (a name, `*.example.com`, or `*` for any). */
  add(pattern: string): void;
  /** The patterns, for messages and logs. */
  readonly patterns: readonly string[];
}

/**
 * Host names are matched exactly (port ignored), `*.example.com` matches every subdomain of
 * example.com, and `*` turns the check off.
 */
export function createHostCheck(patterns: readonly string[]): HostCheck {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  const all: string[] = [];
  let any = false;
  const add = (pattern: string) => {
    const value = pattern.trim().toLowerCase();
    if (value === '' || all.includes(value)) return;
    all.push(value);
    if (value === '*') any = true;
    else if (value.startsWith('*.')) suffixes.push(value.slice(1));
    else exact.add(hostnameOf(value));
  };
  patterns.forEach(add);
  return {
    allows(host) {
      if (any) return true;
      const name = hostnameOf(host);
      return exact.has(name) || suffixes.some((suffix) => name.endsWith(suffix) && name.length > suffix.length);
    },
    add,
    patterns: all,
  };
}

/**
 * Refuses requests whose `Host` is not allowed. A page on another site can make a browser
 * send requests here by pointing its own name at 127.0.0.1 (DNS rebinding); those requests
 * carry that site's name as Host, which this check refuses. `exempt` paths (health probes,
 * which orchestrators send to the pod's IP) skip the check.
 */
export function requireAllowedHost(check: HostCheck, exempt: ReadonlySet<string>): MiddlewareHandler {
  return async (c, next) => {
    if (exempt.has(c.req.path)) return next();
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (!check.allows(host)) {
      return c.json(
        { error: `host "${host.slice(0, 100)}" is not allowed: add it to the config's dashboard.allowedHosts or MVFLEET_DASHBOARD_ALLOWED_HOSTS` },
        421,
      );
    }
    await next();
  };
}
