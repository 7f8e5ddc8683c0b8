import type { OpenAPIHono } from '@hono/zod-openapi';
import { BODY_NAMES, parseBodyName } from '../sky/bodies.ts';
import { PositionCalculator } from '../sky/fast-path.ts';
import { GREENWICH, quote, resolveObserver } from './observer.ts';
import type { BodyPosition, Observer, Refraction } from '../sky/types.ts';
import { isoString } from '../sky/isotime.ts';
import { IMMUTABLE, NOW, cachedJson } from './cache.ts';
import { HttpError } from './errors.ts';
import { addRoute, errorResponses, json } from './openapi.ts';
import { BodyNameParam, PlanetResponse, PlanetsResponse, SKY_QUERY_RULES, SkyQuery } from './schemas.ts';
import { rulesParser } from './validate.ts';

// GET /planets/:name and GET /planets: any body, any observer, any instant, computed on request.
// The hot path of the on-demand API: the query is checked by SkyQuery's rules without zod.

const parseSkyQuery = rulesParser(SKY_QUERY_RULES);
const VALID_NAMES = BODY_NAMES.join(', ');

interface SkyRequest {
  observer: Observer;
  time: Date;
  refraction: Refraction;
  /** how long the answer stays true: forever for a given time, a tick for now */
  cacheControl: string;
}

function skyRequest(url: string): SkyRequest {
  const q = parseSkyQuery(url);
  return {
    observer: resolveObserver(q, GREENWICH),
    time: q.time ?? new Date(),
    refraction: q.refraction ?? 'normal',
    cacheControl: q.time ? IMMUTABLE : NOW,
  };
}

const CACHE_DOC =
  'With `time`: immutable (strong `ETag`, `Cache-Control: public, max-age=31536000, immutable`); without: `max-age=1`.';
const NOT_MODIFIED = { description: '`If-None-Match` names the current ETag' };

const queryErrors = errorResponses({
  400: 'invalid or unknown query parameter (the message names it)',
  405: 'method not allowed',
});

export function mountPlanets(app: OpenAPIHono): void {
  // One calculator for the app's requests: each computes synchronously, start to end.
  const sky = new PositionCalculator();
  mountOneBody(app, sky);
  mountAllBodies(app, sky);
}

/** The JSON of GET /planets/:name: the body's position with the request's instant, observer and refraction. */
function planetJson(p: BodyPosition, time: Date, observer: Observer, refraction: Refraction): string {
  return JSON.stringify({
    name: p.name,
    time: isoString(time.getTime()),
    observer,
    refraction,
    az: p.az,
    alt: p.alt,
    ra: p.ra,
    dec: p.dec,
    distance: p.distance,
    magnitude: p.magnitude,
    phase: p.phase,
    constellation: p.constellation,
    aboveHorizon: p.aboveHorizon,
    rise: p.rise,
    transit: p.transit,
    set: p.set,
  });
}

/** GET /planets/:name */
function mountOneBody(app: OpenAPIHono, sky: PositionCalculator): void {
  addRoute(
    app,
    {
      method: 'get',
      path: '/planets/{name}',
      summary: 'One body as seen by one observer at one instant',
      request: { params: BodyNameParam, query: SkyQuery },
      responses: {
        200: json(PlanetResponse, 'position, brightness and next rise/transit/set', CACHE_DOC),
        304: NOT_MODIFIED,
        ...queryErrors,
        ...errorResponses({ 404: 'unknown body (`unknown_body`; the message lists the valid names)' }),
      },
    },
    (c) => {
      const raw = c.req.param('name') ?? '';
      const name = parseBodyName(raw);
      if (name === undefined) {
        throw new HttpError(404, 'unknown_body', `unknown body ${quote(raw)}; valid names: ${VALID_NAMES}`);
      }
      const { observer, time, refraction, cacheControl } = skyRequest(c.req.url);
      const p = sky.computeBody(name, observer, time, refraction);
      return cachedJson(c, planetJson(p, time, observer, refraction), cacheControl);
    },
  );
}

/** GET /planets */
function mountAllBodies(app: OpenAPIHono, sky: PositionCalculator): void {
  addRoute(
    app,
    {
      method: 'get',
      path: '/planets',
      summary: 'Every body as seen by one observer at one instant',
      request: { query: SkyQuery },
      responses: { 200: json(PlanetsResponse, 'the ten bodies, sun first', CACHE_DOC), 304: NOT_MODIFIED, ...queryErrors },
    },
    (c) => {
      const { observer, time, refraction, cacheControl } = skyRequest(c.req.url);
      const bodies = sky.computeAll(observer, time, refraction);
      return cachedJson(c, JSON.stringify({ time: isoString(time.getTime()), observer, refraction, bodies }), cacheControl);
    },
  );
}
