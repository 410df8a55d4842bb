import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { AfterHook, BeforeHook } from '@bull-board/api/typings/app';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import { credentialsFromHeaders, requireToken, type TokenCheck } from './auth.js';
import { redactDetails } from './redact.js';

/** What {@link createBoardApp} needs. */
export interface BoardAppDeps {
  queue: Queue;
  tokenCheck: TokenCheck;
  /** Path the returned app is mounted at; Bull Board builds its asset and API URLs from it. */
  basePath: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Bull Board API routes that show the server rather than the queue: Redis's version, memory and clients, workers' addresses, job logs. */
const SERVER_DETAILS = new Set(['/api/redis/stats', '/api/queues/:queueName/workers', '/api/queues/:queueName/:jobId/logs']);

/** Bull Board's page asks a web font service for its fonts; the dashboard makes no request to third parties. */
const WEB_FONTS = /<link[^>]+href="https:\/\/fonts\.googleapis\.com[^"]*"[^>]*>/g;

/** Removes what only the token's holders may see from a Bull Board answer: stack traces, workers' names, detailed failure reasons. */
function redactJobs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJobs);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (key === 'stacktrace') out[key] = [];
    else if (key === 'processedBy') continue;
    else if (key === 'failedReason' && typeof entry === 'string') out[key] = redactDetails(entry);
    else out[key] = redactJobs(entry);
  }
  return out;
}

/**
 * Bull Board for the refresh queue. Writes (every non-GET under the base path, whoever sends
 * them) need the dashboard token as a bearer header or the session cookie; without a
 * configured token the queue is read-only outright. Visitors without credentials see the
 * queue read-only, without stack traces or server details.
 */
export function createBoardApp({ queue, tokenCheck, basePath }: BoardAppDeps): Hono {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(basePath);
  const authorised = (headers: Record<string, string | undefined>) =>
    tokenCheck.decide(credentialsFromHeaders((name) => headers[name]), { cookie: true, sameSiteOnly: false }).ok;

  const hideServerDetails: BeforeHook = (context) =>
    SERVER_DETAILS.has(context.route) && !authorised(context.request.headers)
      ? { allow: false, status: 403, message: 'sign in with the dashboard token to see server details' }
      : { allow: true };

  const redactForAnonymous: AfterHook = (context, result) => {
    if (typeof result.body !== 'object' || result.body === null || authorised(context.request.headers)) return result;
    const body = redactJobs(result.body) as Record<string, unknown>;
    if (context.route === '/api/queues' && Array.isArray(body.queues)) {
      // The UI hides the action buttons they could not use anyway.
      body.queues = (body.queues as Record<string, unknown>[]).map((entry) => ({
        ...entry,
        readOnlyMode: true,
        allowRetries: false,
        allowCompletedRetries: false,
      }));
    }
    return { ...result, body };
  };

  createBullBoard({
    queues: [
      new BullMQAdapter(queue, {
        readOnlyMode: !tokenCheck.configured,
        description: 'Refresh requests (events, schedules, API, cascades); one job refreshes one view.',
      }),
    ],
    serverAdapter,
    options: {
      uiConfig: { boardTitle: 'mvfleet queue', miscLinks: [{ text: 'Freshness page', url: '/' }] },
      handlerHooks: { before: hideServerDetails, after: redactForAnonymous },
    },
  });
  // Bull Board's own handler answers with the error's message; ours logs it and says less.
  serverAdapter.setErrorHandler(() => ({ status: 500, body: { error: 'internal error' } }));

  const app = new Hono();
  const guard = requireToken(tokenCheck, { cookie: true });
  app.use('*', async (c, next) => (SAFE_METHODS.has(c.req.method) ? next() : guard(c, next)));
  app.use('*', async (c, next) => {
    await next();
    if (!c.res.headers.get('content-type')?.startsWith('text/html')) return;
    const page = await c.res.text();
    c.res = new Response(page.replace(WEB_FONTS, ''), c.res);
  });
  app.route('/', serverAdapter.registerPlugin());
  return app;
}
