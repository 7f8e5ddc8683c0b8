import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ConnectionOptions } from '../hub/connection.ts';
import type { PresenceTracker } from '../presence/tracker.ts';
import type { StatusChannel } from '../presence/status.ts';
import { SseEndpoint, parseEventId } from './sse-endpoint.ts';
import { queryParser } from './validate.ts';
import { z } from '@hono/zod-openapi';

// GET /status: the cluster status document (nodes, locations with subscribers across all nodes, rates, worker health,
// join/leave activity). GET /status/stream: the same, live, as `event: status` every STATUS_INTERVAL_MS, resumable
// with Last-Event-ID from the status channel's own history. The page is web/status.html.

export interface StatusDeps {
  channel: StatusChannel;
  tracker: PresenceTracker;
  connection: ConnectionOptions;
  admit?: (c: Context) => (() => void) | Response;
}

const StatusStreamQuery = z.object({ lastEventId: z.string().optional() }).strict();
const parseQuery = queryParser(StatusStreamQuery);

export function mountStatus(app: OpenAPIHono, deps: StatusDeps): void {
  app.get('/status', async (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json(await deps.channel.current());
  });

  const endpoint = new SseEndpoint({ connection: deps.connection, admit: deps.admit });
  app.get('/status/stream', (c) => {
    const { lastEventId } = parseQuery(c.req.url);
    return endpoint.serve(c, { lastEventId: lastEventId === undefined ? undefined : parseEventId(lastEventId, 'lastEventId') }, (conn, resumeFrom) => {
      deps.tracker.statusClients++;
      conn.onClose(() => {
        deps.channel.remove(conn);
        deps.tracker.statusClients--;
      });
      deps.channel.add(conn);
      void deps.channel.current().then(
        () => conn.prime(deps.channel.backlog(resumeFrom)),
        () => conn.prime([]),
      );
    });
  });
}
