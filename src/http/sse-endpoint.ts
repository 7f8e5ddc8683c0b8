import { ServerResponse } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import { socketSinkFor } from '../fastpath/index.ts';
import { SseConnection, type ConnectionOptions } from '../hub/connection.ts';
import { frame } from '../hub/frame.ts';
import { SSE_HEADERS, nodeSink, webSink, type SseSink } from '../hub/sink.ts';
import type { StreamServedBy } from '../metrics.ts';
import { invalidParameter } from './errors.ts';
import { ChunkEncoder } from './raw-response.ts';
import { responseHeadersOf } from './response-headers.ts';
import { quote } from './observer.ts';

// What every Server-Sent Events route does the same way, in the spirit of Hono's streamSSE: the Last-Event-ID rule,
// the browser redirect, the HEAD answer, admission, the sink, the retry frame. A route validates its own input, then
// hands over what is particular to it: `start`, which feeds the connection (a hub channel, the status channel).
// A new stream route: one SseEndpoint per set of connection options, then `endpoint.serve(c, { lastEventId, page },
// start)` from its handler (stream.ts's channelFeeds() feeds any hub channel). A route whose requests the stream front
// should serve on their bare socket must also match the front's REQUEST_LINE (fastpath/stream-front.ts).
//
// The sink follows how the request came: on a fresh connection, through the stream front, its bare socket
// (fastpath/); on a keep-alive connection that served other requests first, its ServerResponse; with neither
// (app.request() in tests, other runtimes), a web ReadableStream body.

export interface SseEndpointOptions {
  connection: ConnectionOptions;
  /** admission (e.g. streams per client address): a release function, or the refusal to send instead */
  admit?: (c: Context) => (() => void) | Response;
}

export interface SseRequest {
  /** the route's `lastEventId` query parameter, already parsed; the Last-Event-ID header takes precedence over it */
  lastEventId?: number;
  /** where a browser's own navigation (Accept: text/html, not event-stream) is redirected instead; absent: no redirect */
  page?: string;
}

/** Starts feeding an admitted stream: the retry frame is written; the backlog and live messages are the route's. */
export type StartStream = (conn: SseConnection, lastEventId: number | undefined, servedBy: StreamServedBy) => void;

const RETRY_FRAME = frame({ retry: 2000 });
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

/** Header first: an EventSource reconnecting to a URL that carries ?lastEventId= sends the newer id in the header. */
function lastEventIdOf(c: Context, fromQuery: number | undefined): number | undefined {
  const header = c.req.header('last-event-id');
  if (header !== undefined && header !== '') return parseEventId(header.trim(), 'Last-Event-ID');
  return fromQuery;
}

/** A browser's own navigation asks for HTML and not for a stream: send it to the page that draws the stream. */
function isPageNavigation(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.includes('text/html') && !accept.includes('text/event-stream');
}

export class SseEndpoint {
  /** shared by this endpoint's streams on a chunked ServerResponse: each message is chunk-framed once */
  private readonly chunks = new ChunkEncoder();

  constructor(private readonly options: SseEndpointOptions) {}

  /** The answer to a validated stream request: a 400 for a bad Last-Event-ID, a redirect, HEAD, a refusal, or the stream. */
  serve(c: Context, request: SseRequest, start: StartStream): Response {
    const lastEventId = lastEventIdOf(c, request.lastEventId);
    if (request.page !== undefined && isPageNavigation(c.req.header('accept'))) return c.redirect(request.page, 302);
    if (c.req.method === 'HEAD') return new Response(null, { status: 200, headers: SSE_HEADERS });
    const admitted = this.options.admit?.(c);
    if (admitted instanceof Response) return admitted;

    const extra = responseHeadersOf(c.req.raw);
    const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
    let sink: SseSink | undefined = socketSinkFor(c.env, extra);
    let servedBy: StreamServedBy = 'socket';
    const web = sink || outgoing instanceof ServerResponse ? undefined : webSink();
    if (!sink) {
      sink = web ?? nodeSink(outgoing as ServerResponse, this.chunks, extra);
      servedBy = web ? 'web' : 'response';
    }
    const conn = new SseConnection(sink, this.options.connection);
    if (admitted) conn.onClose(admitted);
    conn.writeControl(RETRY_FRAME);
    start(conn, lastEventId, servedBy);
    return web ? new Response(web.stream, { status: 200, headers: SSE_HEADERS }) : RESPONSE_ALREADY_SENT;
  }
}
