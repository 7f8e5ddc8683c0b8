import { ServerResponse } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { SseConnection, type CloseReason, type FramedMessage } from '../hub/connection.ts';
import { frame } from '../hub/frame.ts';
import type { Hub } from '../hub/hub.ts';
import { HeartbeatWheel } from '../hub/heartbeat.ts';
import type { KernelStallWatch } from '../hub/kernel-stall.ts';
import { SSE_HEADERS, SocketSink, nodeSink, webSink, type SseSink } from '../hub/sink.ts';
import type { Logger } from '../log.ts';
import { findLocation, nearest } from '../sky/locations.ts';
import { parseLat, parseLon, quote } from './observer.ts';
import type { Location } from '../sky/types.ts';
import { responseHeadersOf } from './response-headers.ts';
import { HttpError, invalidParameter } from './errors.ts';
import { addRoute, errorResponses } from './openapi.ts';
import type { StreamServedBy } from '../metrics.ts';
import { STREAM_SOCKET, type StreamFrontEnv } from './stream-front.ts';
import { queryParser } from './validate.ts';

// GET /stream/:location and GET /stream?lat=&lon=: the live sky of one grid location as Server-Sent Events.
// Everything that can be refused (unknown location, bad parameters) is refused as JSON before a byte of stream is
// written and before the broker is touched. Then: retry hint, backlog (latest, or the missed ones on resume), live.

export interface StreamDeps {
  hub: Hub;
  heartbeatMs: number;
  /** a client whose socket does not drain for this long is closed as slow (default 30 s) */
  stallMs?: number;
  /** a client with more than this many bytes waiting is closed as slow (default 1 MiB beyond the backlog) */
  maxBufferedBytes?: number;
  /** the kernel-side stall check (kernel-stall.ts), where the native probe loads */
  kernelStalls?: KernelStallWatch;
  log?: Logger;
  /**
   * `node` (default): write to the Node ServerResponse directly; `web`: a ReadableStream body piped by
   * @hono/node-server, as Hono's own streaming helpers do. Kept for bench/stream-fanout.ts, which compares the two.
   */
  transport?: 'node' | 'web';
  /** told when a client joins a channel and when it leaves (presence, metrics); never per message */
  observer?: StreamObserver;
  /** admission (e.g. streams per client address): a release function, or the refusal to send instead */
  admit?: (c: Context) => (() => void) | Response;
}

export interface StreamObserver {
  joined(channel: string, served: StreamServedBy): void;
  left(channel: string, reason: CloseReason, conn: SseConnection): void;
}

const RETRY_FRAME = frame({ retry: 2000 });
const UNAVAILABLE_FRAME = frame({ comment: 'live feed unavailable, reconnect' });
/**
 * Sent to every stream when a node drains: an `event: reconnect` for clients that listen for it, and a short `retry`
 * so an EventSource comes back (through the balancer, to another node) within about a second of the close.
 */
export const SHUTDOWN_FRAME = frame({
  comment: 'server shutting down, reconnect',
  retry: 1000,
  event: 'reconnect',
  data: '{"reason":"shutdown"}',
});

/**
 * The stream cannot continue from the event a client resumed from: the history no longer holds it, so what came
 * between it and `oldest` (the oldest event kept, which follows; null: none kept) is gone. No `id:`, so the client's
 * last event id stays the one it had until the next update. Like Centrifugo's `recovered: false`.
 */
const resumeLostFrame = (lastEventId: number, oldest: number | undefined): Buffer =>
  frame({
    event: 'resume',
    data: JSON.stringify({ recovered: false, lastEventId: String(lastEventId), oldest: oldest === undefined ? null : String(oldest) }),
  });

const MAX_EVENT_ID = Number.MAX_SAFE_INTEGER;
const EVENT_ID = /^\d{1,16}$/;

/** An SSE id we issued: a tick instant in epoch ms. Anything else cannot be resumed from, so it is a 400. */
export function parseEventId(raw: string, param: string): number {
  const n = EVENT_ID.test(raw) ? Number(raw) : NaN;
  if (!(n <= MAX_EVENT_ID)) {
    throw invalidParameter(`${param} must be an event id (epoch milliseconds, digits only), got ${quote(raw)}`);
  }
  return n;
}

const lastEventIdDoc = {
  type: 'string' as const,
  description:
    'Resume: the id of the last event received (epoch ms). The `Last-Event-ID` header, when present, takes precedence.',
  example: '1795310959000',
};
const LastEventIdQuery = z.string().transform((s) => parseEventId(s, 'lastEventId')).openapi(lastEventIdDoc);

const LocationStreamQuery = z.object({ lastEventId: LastEventIdQuery.optional() }).strict();
const NearestStreamQuery = z
  .object({
    lat: z.string().transform((s) => parseLat(s)).openapi({ type: 'number', description: 'degrees north' }),
    lon: z.string().transform((s) => parseLon(s)).openapi({ type: 'number', description: 'degrees east' }),
    lastEventId: LastEventIdQuery.optional(),
  })
  .strict();
const LocationParam = z.object({
  location: z.string().openapi({ param: { name: 'location', in: 'path' }, type: 'string', example: 'london' }),
});

const parseLocationQuery = queryParser(LocationStreamQuery);
const parseNearestQuery = queryParser(NearestStreamQuery);

const streamResponse = {
  description:
    'text/event-stream: `retry: 2000`, the latest snapshot at once, then `event: update` with `id: <tick epoch ms>` and ' +
    '`data: <Snapshot JSON>` every tick; `event: sky-event` with `data: <Happening JSON>` (as GET /events) at the tick ' +
    'at or just after each happening, its `id` in the same rising sequence; `: heartbeat` comments when idle. A browser ' +
    'navigating here (Accept: text/html) is redirected to the page instead.',
  content: { 'text/event-stream': { schema: z.string() } },
};

/** A browser's own navigation asks for HTML and not for a stream: send it to the page that draws the stream. */
function isPageNavigation(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('text/html') && !accept.includes('text/event-stream');
}

export function mountStream(app: OpenAPIHono, deps: StreamDeps): void {
  const { hub } = deps;
  const log = deps.log?.child({ component: 'stream' });
  const connectionOptions = {
    heartbeatMs: deps.heartbeatMs,
    stallMs: deps.stallMs ?? 30_000,
    maxBufferedBytes: deps.maxBufferedBytes ?? 1024 * 1024,
    // One timer for every stream of this node, not one per client reset by every message.
    heartbeats: new HeartbeatWheel(deps.heartbeatMs),
    kernelStalls: deps.kernelStalls,
  };

  /** Header first: an EventSource reconnecting to a URL that carries ?lastEventId= sends the newer id in the header. */
  const lastEventIdOf = (c: Context, fromQuery: number | undefined): number | undefined => {
    const header = c.req.header('last-event-id');
    if (header !== undefined && header !== '') return parseEventId(header.trim(), 'Last-Event-ID');
    return fromQuery;
  };

  const serve = (c: Context, location: Location, lastEventId: number | undefined): Response => {
    if (isPageNavigation(c.req.header('accept'))) {
      return c.redirect(`/?location=${encodeURIComponent(location.id)}`, 302);
    }
    if (c.req.method === 'HEAD') return new Response(null, { status: 200, headers: SSE_HEADERS });
    const admitted = deps.admit?.(c);
    if (admitted instanceof Response) return admitted;

    // A fresh connection arrives with its bare socket (stream-front.ts); one that served other requests first, with
    // its ServerResponse; app.request() in tests, with neither (a web stream body).
    const socket = deps.transport === 'web' ? undefined : (c.env as Partial<StreamFrontEnv> | undefined)?.[STREAM_SOCKET];
    const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
    const onNode = !socket && outgoing instanceof ServerResponse && deps.transport !== 'web';
    const web = socket || onNode ? undefined : webSink();
    const extra = responseHeadersOf(c.req.raw);
    const sink: SseSink = socket ? new SocketSink(socket, extra) : onNode ? nodeSink(outgoing, extra) : web!;
    const conn = new SseConnection(sink, connectionOptions);
    if (admitted) conn.onClose(admitted);
    conn.writeControl(RETRY_FRAME);
    void attach(conn, location.id, lastEventId, socket ? 'socket' : onNode ? 'response' : 'web');
    return web ? new Response(web.stream, { status: 200, headers: SSE_HEADERS }) : RESPONSE_ALREADY_SENT;
  };

  const attach = async (conn: SseConnection, channel: string, lastEventId: number | undefined, served: StreamServedBy): Promise<void> => {
    const opened = Date.now();
    deps.observer?.joined(channel, served);
    conn.onClose((reason: CloseReason) => {
      hub.leave(channel, conn, reason);
      deps.observer?.left(channel, reason, conn);
      const fields = { channel, reason, ms: Date.now() - opened, conflated: conn.conflated };
      if (reason === 'slow_client') log?.info(fields, 'slow stream client closed');
      else log?.debug(fields, 'stream closed');
    });
    try {
      // Subscribed before reading the backlog, so nothing published in between is lost; the connection holds live
      // messages until the backlog is written and drops ids it has already sent.
      await hub.join(channel, conn);
      if (conn.closed) {
        hub.leave(channel, conn); // it may have gone while join waited for the broker
        return;
      }
      let backlog: FramedMessage[];
      if (lastEventId === undefined) {
        const latest = await hub.latest(channel);
        backlog = latest ? [latest] : [];
      } else {
        // From the resumed event itself: whether the history still holds it tells whether anything between it and
        // the oldest kept one was lost (a Redis restarted without persistence, an id older than HISTORY_SECONDS).
        const kept = await hub.history(channel, lastEventId - 1);
        if (kept[0]?.id === lastEventId) backlog = kept.slice(1);
        else {
          backlog = kept;
          conn.writeControl(resumeLostFrame(lastEventId, kept[0]?.id));
        }
      }
      conn.prime(backlog);
    } catch (err) {
      log?.warn({ channel, err }, 'stream could not start; client told to reconnect');
      conn.close('broker_unavailable', UNAVAILABLE_FRAME);
    }
  };

  addRoute(
    app,
    {
      method: 'get',
      path: '/stream/{location}',
      summary: 'Live sky of one grid location (Server-Sent Events)',
      request: { params: LocationParam, query: LocationStreamQuery },
      responses: {
        200: streamResponse,
        302: { description: 'browser navigation: redirect to /?location=<id>' },
        ...errorResponses({ 400: 'invalid lastEventId / Last-Event-ID', 404: 'unknown location (`unknown_location`)' }),
      },
    },
    (c) => {
      const id = c.req.param('location') ?? '';
      const location = findLocation(id);
      if (!location) {
        throw new HttpError(404, 'unknown_location', `location ${quote(id)} is not a grid location (see GET /locations)`);
      }
      const { lastEventId } = parseLocationQuery(c.req.url);
      return serve(c, location, lastEventIdOf(c, lastEventId));
    },
  );

  addRoute(
    app,
    {
      method: 'get',
      path: '/stream',
      summary: 'Live sky of the grid location nearest to lat/lon (Server-Sent Events)',
      request: { query: NearestStreamQuery },
      responses: {
        200: streamResponse,
        302: { description: 'browser navigation: redirect to /?location=<id>' },
        ...errorResponses({ 400: 'missing or invalid lat, lon or lastEventId' }),
      },
    },
    (c) => {
      const { lat, lon, lastEventId } = parseNearestQuery(c.req.url);
      return serve(c, nearest(lat, lon).location, lastEventIdOf(c, lastEventId));
    },
  );
}
