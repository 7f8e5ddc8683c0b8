import { Hono } from 'hono';
import { HttpError } from './errors.ts';

// createApp(deps): every route, the error handler and the 404; no listen().
// SKELETON: the on-demand routes and the stream route are mounted here by their own modules.

export interface AppDeps {
  /** Whether the broker is connected (for /readyz); the embedded memory broker is always ready. */
  ready?: () => boolean;
}

export function createApp(deps: AppDeps = {}): Hono {
  void deps;
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.notFound((c) => c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json({ error: err.code, message: err.message }, err.status);
    return c.json({ error: 'internal', message: 'internal error' }, 500);
  });
  return app;
}
