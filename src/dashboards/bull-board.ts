import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { AfterHook } from '@bull-board/api/typings/app';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import { requireToken, type TokenCheck } from './auth.js';

/** What {@link createBoardApp} needs. */
export interface BoardAppDeps {
  queue: Queue;
  tokenCheck: TokenCheck;
  /** Path the returned app is mounted at; Bull Board builds its asset and API URLs from it. */
  basePath: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Bull Board for the refresh queue. Reads are open. Writes (every non-GET under the base
 * path, whoever sends them) need the dashboard token as a bearer header or the board session
 * cookie; without a configured token the queue is read-only outright. With a token, the
 * queue list is marked read-only per request for visitors without credentials, so the UI
 * hides the action buttons they could not use anyway.
 */
export function createBoardApp({ queue, tokenCheck, basePath }: BoardAppDeps): Hono {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(basePath);

  const markReadOnly: AfterHook = (context, result) => {
    if (context.route !== '/api/queues' || typeof result.body !== 'object' || !('queues' in result.body)) return result;
    const headers = context.request.headers;
    if (tokenCheck.decide({ authorization: headers.authorization, cookie: headers.cookie }, { cookie: true }).ok) return result;
    const queues = (result.body.queues as Record<string, unknown>[]).map((entry) => ({
      ...entry,
      readOnlyMode: true,
      allowRetries: false,
      allowCompletedRetries: false,
    }));
    return { ...result, body: { ...result.body, queues } };
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
      handlerHooks: { after: markReadOnly },
    },
  });

  const app = new Hono();
  const guard = requireToken(tokenCheck, { cookie: true });
  app.use('*', async (c, next) => (SAFE_METHODS.has(c.req.method) ? next() : guard(c, next)));
  app.route('/', serverAdapter.registerPlugin());
  return app;
}
