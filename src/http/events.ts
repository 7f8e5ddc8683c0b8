import type { OpenAPIHono } from '@hono/zod-openapi';
import {
  HAPPENING_KINDS,
  HAPPENING_SPAN_LIMIT_DAYS,
  happenings,
  type HappeningKind,
} from '../sky/happenings.ts';
import { isoString } from '../sky/isotime.ts';
import { findLocation } from '../sky/locations.ts';
import { GREENWICH, InvalidInputError, parseElevation, parseLat, parseLon, parseTime, quote, resolveObserver } from './observer.ts';
import type { Observer } from '../sky/types.ts';
import { IMMUTABLE, NOW, cachedJson } from './cache.ts';
import { addRoute, errorResponses, json } from './openapi.ts';
import { EventsQuery, EventsResponse } from './schemas.ts';
import { rulesParser } from './validate.ts';

// GET /events: the calendar of happenings for any place and span. Each kind has a longest span it answers (the
// per-body kinds cost per day, the rare ones per search); a longer span is a 400 naming the limit.

const DAY_MS = 86_400_000;
const DEFAULT_SPAN_MS = DAY_MS;
const KIND_SET = new Set<string>(HAPPENING_KINDS);

function parseKinds(raw: string): HappeningKind[] {
  const kinds = raw.split(',').map((k) => k.trim().toLowerCase());
  for (const k of kinds) {
    if (!KIND_SET.has(k)) {
      throw new InvalidInputError('kinds', `kinds: unknown kind ${quote(k)}; valid kinds: ${HAPPENING_KINDS.join(', ')}`);
    }
  }
  return [...new Set(kinds)] as HappeningKind[];
}

const parseQuery = rulesParser({
  location: (s: string) => {
    const location = findLocation(s);
    if (!location) throw new InvalidInputError('location', `location: unknown grid location ${quote(s)} (see GET /locations)`);
    return location;
  },
  lat: (s: string) => parseLat(s),
  lon: (s: string) => parseLon(s),
  elevation: (s: string) => parseElevation(s),
  from: (s: string) => parseTime(s, 'from').getTime(),
  to: (s: string) => parseTime(s, 'to').getTime(),
  kinds: parseKinds,
});

export interface EventsRequest {
  observer: Observer;
  location?: string;
  fromMs: number;
  toMs: number;
  kinds: HappeningKind[];
  /** from and to both given: the answer never changes */
  closed: boolean;
}

/** The query of GET /events, validated; throws InvalidInputError naming the parameter. */
export function eventsRequest(url: string, nowMs: number): EventsRequest {
  const q = parseQuery(url);
  let observer: Observer;
  if (q.location) {
    const clash = (['lat', 'lon', 'elevation'] as const).find((k) => q[k] !== undefined);
    if (clash) throw new InvalidInputError(clash, `${clash} cannot be combined with location: give a grid location or coordinates`);
    observer = { lat: q.location.lat, lon: q.location.lon, elevation: q.location.elevation };
  } else observer = resolveObserver(q, GREENWICH);
  const fromMs = q.from ?? nowMs;
  const toMs = q.to ?? fromMs + DEFAULT_SPAN_MS;
  if (toMs <= fromMs) {
    throw new InvalidInputError('to', `to must be after from (from ${isoString(fromMs)}, to ${isoString(toMs)})`);
  }
  const kinds = q.kinds ?? [...HAPPENING_KINDS];
  const days = (toMs - fromMs) / DAY_MS;
  const over = kinds.filter((k) => days > HAPPENING_SPAN_LIMIT_DAYS[k]);
  if (over.length > 0) {
    const limits = over.map((k) => `${k} ${HAPPENING_SPAN_LIMIT_DAYS[k]} days`).join(', ');
    throw new InvalidInputError(
      'to',
      `to: the span from..to is ${Math.round(days * 100) / 100} days, over the limit for ${limits}; ask a shorter span or fewer kinds`,
    );
  }
  return { observer, ...(q.location ? { location: q.location.id } : {}), fromMs, toMs, kinds, closed: q.from !== undefined && q.to !== undefined };
}

export function mountEvents(app: OpenAPIHono): void {
  addRoute(
    app,
    {
      method: 'get',
      path: '/events',
      summary: 'Sky happenings for any place and span: rise, set, transit, twilight, phases, eclipses, approaches',
      request: { query: EventsQuery },
      responses: {
        200: json(EventsResponse, 'the happenings in the span, sorted by time'),
        ...errorResponses({ 400: 'invalid parameter, from not before to, a span over the limit of a kind (the message names it)' }),
      },
    },
    (c) => {
      const r = eventsRequest(c.req.url, Date.now());
      const events = happenings(r.observer, r.fromMs, r.toMs, new Set(r.kinds));
      const body = JSON.stringify({
        observer: r.observer,
        ...(r.location ? { location: r.location } : {}),
        from: isoString(r.fromMs),
        to: isoString(r.toMs),
        kinds: r.kinds,
        events,
      });
      // A span given in full (from and to) has one answer forever; one that starts now moves with the clock.
      return cachedJson(c, body, r.closed ? IMMUTABLE : NOW);
    },
  );
}
