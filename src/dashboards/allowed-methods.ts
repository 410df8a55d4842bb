import type { Context, Hono } from 'hono';
import { TrieRouter } from 'hono/router/trie-router';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * The methods some route answers for a path, from the app's route table (middleware, which
 * Hono registers for every method, left out). Built on first use, so routes added after
 * `createDashboard` (the app's own) count too.
 */
export function createAllowedMethods(app: Hono): (path: string) => string[] {
  let router: TrieRouter<true> | undefined;
  return (path) => {
    if (!router) {
      router = new TrieRouter<true>();
      for (const route of app.routes) if (route.method !== 'ALL') router.add(route.method, route.path, true);
    }
    const methods: string[] = METHODS.filter((method) => router!.match(method, path)[0].length > 0);
    // Hono answers HEAD with the GET route; OPTIONS is answered below.
    if (methods.includes('GET')) methods.splice(1, 0, 'HEAD');
    return methods.length > 0 ? [...methods, 'OPTIONS'] : [];
  };
}

/**
 * The not-found answer: a path that exists under other methods answers 405 with `Allow`
 * (OPTIONS with 204 and `Allow`), anything else 404.
 */
export function notFoundOrNotAllowed(allowedMethods: (path: string) => string[]): (c: Context) => Response {
  return (c) => {
    const allowed = allowedMethods(c.req.path);
    if (allowed.length === 0) return c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404);
    c.header('Allow', allowed.join(', '));
    if (c.req.method === 'OPTIONS') return c.body(null, 204);
    return c.json({ error: `${c.req.method} is not allowed on ${c.req.path} (allowed: ${allowed.join(', ')})` }, 405);
  };
}
