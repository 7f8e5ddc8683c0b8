import { ServerResponse } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { SseConnection, type ConnectionOptions } from '../hub/connection.ts';
import { frame } from '../hub/frame.ts';
import { responseHeadersOf } from './response-headers.ts';
import { SSE_HEADERS, nodeSink, webSink } from '../hub/sink.ts';
import type { PresenceTracker } from '../presence/tracker.ts';
import type { StatusChannel } from '../presence/status.ts';
import { parseEventId } from './stream.ts';
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

const RETRY_FRAME = frame({ retry: 2000 });
const StatusStreamQuery = z.object({ lastEventId: z.string().optional() }).strict();
const parseQuery = queryParser(StatusStreamQuery);

export function mountStatus(app: OpenAPIHono, deps: StatusDeps): void {
  app.get('/status', async (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json(await deps.channel.current());
  });

  app.get('/status/stream', (c) => {
    const { lastEventId: fromQuery } = parseQuery(c.req.url);
    const header = c.req.header('last-event-id');
    const lastEventId =
      header !== undefined && header !== ''
        ? parseEventId(header.trim(), 'Last-Event-ID')
        : fromQuery === undefined
          ? undefined
          : parseEventId(fromQuery, 'lastEventId');
    if (c.req.method === 'HEAD') return new Response(null, { status: 200, headers: SSE_HEADERS });
    const admitted = deps.admit?.(c);
    if (admitted instanceof Response) return admitted;

    const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
    const onNode = outgoing instanceof ServerResponse;
    const web = onNode ? undefined : webSink();
    const conn = new SseConnection(onNode ? nodeSink(outgoing, responseHeadersOf(c.req.raw)) : web!, deps.connection);
    deps.tracker.statusClients++;
    conn.onClose(() => {
      deps.channel.remove(conn);
      deps.tracker.statusClients--;
      if (admitted) admitted();
    });
    conn.writeControl(RETRY_FRAME);
    deps.channel.add(conn);
    void deps.channel.current().then(
      () => conn.prime(deps.channel.backlog(lastEventId)),
      () => conn.prime([]),
    );
    return onNode ? RESPONSE_ALREADY_SENT : new Response(web!.stream, { status: 200, headers: SSE_HEADERS });
  });
}
