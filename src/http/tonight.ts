import type { OpenAPIHono } from '@hono/zod-openapi';
import { GREENWICH, InvalidInputError, parseElevation, parseLat, parseLon, quote, resolveObserver } from './observer.ts';
import { TIME_RANGE } from '../sky/ranges.ts';
import { tonight } from '../sky/tonight.ts';
import { IMMUTABLE, NOW, cachedJson } from './cache.ts';
import { addRoute, errorResponses, json } from './openapi.ts';
import { TonightQuery, TonightResponse } from './schemas.ts';
import { rulesParser } from './validate.ts';

// GET /tonight: the night's plan for one observer (src/sky/tonight.ts). Polar day, polar night and a body that never
// rises are answers with a reason, not errors.

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDate(raw: string): string {
  const m = DATE.exec(raw);
  const ms = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!) : NaN;
  // Date.UTC rolls 2026-02-31 over to March: a date that does not survive the round trip does not exist.
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== raw) {
    throw new InvalidInputError('date', `date must be a calendar date YYYY-MM-DD, e.g. "2026-03-20", got ${quote(raw)}`);
  }
  if (ms < TIME_RANGE.min || ms + 2 * 86_400_000 > TIME_RANGE.max) {
    throw new InvalidInputError('date', `date must be from 1900-01-01 to 2100-12-30, got ${quote(raw)}`);
  }
  return raw;
}

const parseQuery = rulesParser({
  lat: (s: string) => parseLat(s),
  lon: (s: string) => parseLon(s),
  elevation: (s: string) => parseElevation(s),
  date: parseDate,
});

/** Today's date where the observer is (by longitude: local solar time). */
const localDate = (lon: number, nowMs: number): string => new Date(nowMs + (lon / 15) * 3_600_000).toISOString().slice(0, 10);

export function mountTonight(app: OpenAPIHono): void {
  addRoute(
    app,
    {
      method: 'get',
      path: '/tonight',
      summary: "The night's plan for an observer: Sun times, and for each body whether, when and how it can be seen",
      request: { query: TonightQuery },
      responses: {
        200: json(TonightResponse, 'the night from local solar noon of `date` to the next'),
        ...errorResponses({ 400: 'invalid parameter (the message names it)' }),
      },
    },
    (c) => {
      const q = parseQuery(c.req.url);
      const observer = resolveObserver(q, GREENWICH);
      const date = q.date ?? localDate(observer.lon, Date.now());
      // A given date's night is fixed; "tonight" without one moves with the clock.
      return cachedJson(c, JSON.stringify({ observer, ...tonight(observer, date) }), q.date === undefined ? NOW : IMMUTABLE);
    },
  );
}
