import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { CloseReason, FramedMessage, SseConnection } from '../hub/connection.ts';
import { frame } from '../hub/frame.ts';
import type { Hub } from '../hub/hub.ts';
import { STREAM_FORMATS, type StreamFormat } from '../hub/delta.ts';
import { HeartbeatWheel } from '../hub/heartbeat.ts';
import type { KernelStallWatch } from '../fastpath/index.ts';
import type { Logger } from '../log.ts';
import { cellOf } from '../sky/cell.ts';
import { findLocation } from '../sky/locations.ts';
import { spotChannel } from '../spots/channel.ts';
import { parseElevation, parseLat, parseLon, quote, resolveObserver } from './observer.ts';
import { HttpError, invalidParameter } from './errors.ts';
import { addRoute, errorResponses } from './openapi.ts';
import type { StreamServedBy } from '../metrics.ts';
import { SseEndpoint, parseEventId, type StartStream } from './sse-endpoint.ts';
import { queryParser } from './validate.ts';

// GET /stream/:location (the live sky of one grid location) and GET /stream?lat=&lon=&elevation= (of an exact spot,
// docs/exact-spot.md) as Server-Sent Events. Everything that can be refused (unknown location, bad parameters, limits)
// is refused as JSON before a byte of stream is written and before the broker is touched. Then: retry hint, backlog
// (latest, or the missed ones on resume), live.

export interface StreamDeps {
  hub: Hub;
  heartbeatMs: number;
  /** a client whose socket does not drain for this long is closed as slow (default 30 s) */
  stallMs?: number;
  /** a client with more than this many bytes waiting is closed as slow (default 1 MiB beyond the backlog) */
  maxBufferedBytes?: number;
  /** the kernel-side stall check (fastpath/kernel-stall.ts), where the native probe loads */
  kernelStalls?: KernelStallWatch;
  log?: Logger;
  /** told when a client joins a channel and when it leaves (presence, metrics); never per message */
  observer?: StreamObserver;
  /** admission (e.g. streams per client address): a release function, or the refusal to send instead */
  admit?: (c: Context) => (() => void) | Response;
  /** admission of an exact spot (distinct cells per client address): a release function, or the refusal to send */
  admitSpot?: (c: Context, cellId: string) => (() => void) | Response;
}

export interface StreamObserver {
  joined(channel: string, served: StreamServedBy): void;
  left(channel: string, reason: CloseReason, conn: SseConnection): void;
}

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

const lastEventIdDoc = {
  type: 'string' as const,
  description:
    'Resume: the id of the last event received (epoch ms). The `Last-Event-ID` header, when present, takes precedence.',
  example: '1795310959000',
};
const LastEventIdQuery = z.string().transform((s) => parseEventId(s, 'lastEventId')).openapi(lastEventIdDoc);

/** `full` (the default) or `delta`; anything else is a 400 naming the parameter. */
export function parseStreamFormat(raw: string): StreamFormat {
  const format = STREAM_FORMATS.find((f) => f === raw);
  if (format === undefined) {
    throw invalidParameter(`format must be ${STREAM_FORMATS.map((f) => `"${f}"`).join(' or ')}, got ${quote(raw)}`);
  }
  return format;
}

/** The `format` query parameter of every snapshot stream route (docs/api.md, "Stream formats"). */
export const StreamFormatQuery = z
  .string()
  .transform(parseStreamFormat)
  .openapi({
    type: 'string',
    enum: [...STREAM_FORMATS],
    description:
      '`full` (default): every tick the whole snapshot as `event: update`. `delta`: the whole snapshot as `event: update` ' +
      'first (fresh connection and resume alike, and again whenever this connection missed a tick), then per tick ' +
      '`event: delta` with `time` and only the fields whose displayed value changed, at full precision: ' +
      '`{"time":…,"bodies":{"<name>":{"<field>":<value>,…},…}}`, other top-level fields (e.g. `location`) whole when they change. ' +
      'Apply each delta to the picture the previous frame left (web/js/stream-format.js applyFrame). ' +
      '`publishedAt` comes with `update` frames only; on resume the missed `sky-event`s and the newest snapshot are sent, not every missed snapshot.',
    example: 'delta',
  });

const LocationStreamQuery = z.object({ lastEventId: LastEventIdQuery.optional(), format: StreamFormatQuery.optional() }).strict();
// All optional to the schema so that a missing half of lat/lon is named by resolveObserver's own message.
const SpotStreamQuery = z
  .object({
    lat: z.string().transform((s) => parseLat(s)).openapi({ type: 'number', description: 'degrees north, −90..90; required, with lon' }),
    lon: z.string().transform((s) => parseLon(s)).openapi({ type: 'number', description: 'degrees east, −180..180; required, with lat' }),
    elevation: z.string().transform((s) => parseElevation(s)).openapi({ type: 'number', description: 'metres above sea level, −500..100000 (default 0)' }),
    lastEventId: LastEventIdQuery,
    format: StreamFormatQuery,
  })
  .partial()
  .strict();
const LocationParam = z.object({
  location: z.string().openapi({ param: { name: 'location', in: 'path' }, type: 'string', example: 'london' }),
});

const parseLocationQuery = queryParser(LocationStreamQuery);
const parseSpotQuery = queryParser(SpotStreamQuery);

const streamResponse = {
  description:
    'text/event-stream: `retry: 2000`, the latest snapshot at once, then `event: update` with `id: <tick epoch ms>` and ' +
    '`data: <Snapshot JSON>` every tick; `event: sky-event` with `data: <Happening JSON>` (as GET /events) at the tick ' +
    'at or just after each happening, its `id` in the same rising sequence; `: heartbeat` comments when idle. With ' +
    '`format=delta`, `event: delta` frames in place of all but the first `update` (see the `format` parameter). A browser ' +
    'navigating here (Accept: text/html) is redirected to the page instead.',
  content: { 'text/event-stream': { schema: z.string() } },
};

/**
 * Feeds a stream from a hub channel, in `format`: subscribed before the backlog is read, so nothing published in
 * between is lost (the connection holds live messages until the backlog is written and drops ids it has already sent).
 */
function channelFeeds(deps: StreamDeps): (channel: string, format?: StreamFormat) => StartStream {
  const { hub, observer } = deps;
  const log = deps.log?.child({ component: 'stream' });
  return (channel, format = 'full') => (conn, lastEventId, served) => {
    const opened = Date.now();
    observer?.joined(channel, served);
    conn.onClose((reason: CloseReason) => {
      hub.leave(channel, conn, reason);
      observer?.left(channel, reason, conn);
      const fields = { channel, reason, ms: Date.now() - opened, conflated: conn.conflated };
      if (reason === 'slow_client') log?.info(fields, 'slow stream client closed');
      else log?.debug(fields, 'stream closed');
    });
    void primeFromChannel(hub, conn, channel, lastEventId, format).catch((err: unknown) => {
      log?.warn({ channel, err }, 'stream could not start; client told to reconnect');
      conn.close('broker_unavailable', UNAVAILABLE_FRAME);
    });
  };
}

/**
 * Joins the channel, then writes the backlog: the latest snapshot, or on resume what was missed since lastEventId
 * (in the delta format: the missed sky events and the newest snapshot, the whole picture in one frame).
 */
async function primeFromChannel(
  hub: Hub,
  conn: SseConnection,
  channel: string,
  lastEventId: number | undefined,
  format: StreamFormat,
): Promise<void> {
  await hub.join(channel, conn, format);
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
    if (format === 'delta') backlog = await wholePicture(hub, channel, backlog);
  }
  conn.prime(backlog);
}

/**
 * A resumed delta stream's backlog: the missed sky events, and the newest snapshot (missed or not) as a whole. The
 * channel's latest is asked for too: the hub's first delta is relative to it.
 */
async function wholePicture(hub: Hub, channel: string, missed: FramedMessage[]): Promise<FramedMessage[]> {
  const latest = await hub.latest(channel);
  let newest = latest?.keep ? undefined : latest;
  for (const m of missed) if (!m.keep && (newest === undefined || m.id > newest.id)) newest = m;
  const events = missed.filter((m) => m.keep);
  return newest ? [...events, newest].sort((a, b) => a.id - b.id) : events;
}

export function mountStream(app: OpenAPIHono, deps: StreamDeps): void {
  const endpoint = new SseEndpoint({
    connection: {
      heartbeatMs: deps.heartbeatMs,
      stallMs: deps.stallMs ?? 30_000,
      maxBufferedBytes: deps.maxBufferedBytes ?? 1024 * 1024,
      // One timer for every stream of this node, not one per client reset by every message.
      heartbeats: new HeartbeatWheel(deps.heartbeatMs),
      kernelStalls: deps.kernelStalls,
    },
    admit: deps.admit,
  });
  const feedOf = channelFeeds(deps);

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
        ...errorResponses({ 400: 'invalid lastEventId / Last-Event-ID or format', 404: 'unknown location (`unknown_location`)' }),
      },
    },
    (c) => {
      const id = c.req.param('location') ?? '';
      const location = findLocation(id);
      if (!location) {
        throw new HttpError(404, 'unknown_location', `location ${quote(id)} is not a grid location (see GET /locations)`);
      }
      const { lastEventId, format } = parseLocationQuery(c.req.url);
      return endpoint.serve(c, { lastEventId, page: `/?location=${encodeURIComponent(location.id)}` }, feedOf(location.id, format));
    },
  );

  addRoute(
    app,
    {
      method: 'get',
      path: '/stream',
      summary: 'Live sky of an exact spot (Server-Sent Events)',
      description:
        'As /stream/{location}, for these coordinates: each `update` is the grid snapshot computed for the spot, plus ' +
        '`observer` (the coordinates as requested) and `cell` (where it was computed: latitude and longitude snapped to ' +
        '0.0001°, elevation to 10 m; see docs/exact-spot.md). Ids, resume and heartbeats as on /stream/{location}.',
      request: { query: SpotStreamQuery },
      responses: {
        200: streamResponse,
        302: { description: 'browser navigation: redirect to the page' },
        ...errorResponses({
          400: 'missing, invalid or unknown parameter: lat without lon, out of range, not a number, a bad lastEventId or format (`invalid_parameter`)',
          429: 'MAX_SPOTS_PER_CLIENT distinct spots already watched from this address (`too_many_spots`)',
        }),
      },
    },
    (c) => {
      const { lastEventId, format, ...parts } = parseSpotQuery(c.req.url);
      const observer = resolveObserver(parts);
      const spot = deps.admitSpot?.(c, cellOf(observer).id);
      if (spot instanceof Response) return spot;
      // The spot is released with its stream, or at once when the endpoint answers without one (HEAD, a refusal).
      let started = false;
      const feed = feedOf(spotChannel(observer), format);
      try {
        return endpoint.serve(c, { lastEventId, page: '/' }, (conn, id, served) => {
          started = true;
          if (spot) conn.onClose(spot);
          feed(conn, id, served);
        });
      } finally {
        if (!started) spot?.();
      }
    },
  );
}
