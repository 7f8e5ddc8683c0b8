import type { OpenAPIHono } from '@hono/zod-openapi';
import { BODY_NAMES, parseBodyName } from '../sky/bodies.ts';
import { computeAll, computeBody } from '../sky/ephemeris.ts';
import { GREENWICH, quote, resolveObserver } from '../sky/observer.ts';
import type { Observer, Refraction } from '../sky/types.ts';
import { isoString } from '../sky/isotime.ts';
import { planetJson, planetsJson } from '../sky/wire.ts';
import { HttpError } from './errors.ts';
import { addRoute, errorResponses, json } from './openapi.ts';
import { BodyNameParam, PlanetResponse, PlanetsResponse, SKY_QUERY_RULES, SkyQuery } from './schemas.ts';
import { rulesParser } from './validate.ts';

// GET /planets/:name and GET /planets: any body, any observer, any instant, computed on request.
// The hot path of the on-demand API: the query is checked by SkyQuery's rules without zod, and the body is
// written by wire.ts (JSON.stringify's bytes, without its shortest-double formatting of every number).

const parseSkyQuery = rulesParser(SKY_QUERY_RULES);
const VALID_NAMES = BODY_NAMES.join(', ');
/** What c.json() would send: the same header, spelled the same. */
const JSON_HEADERS = { 'Content-Type': 'application/json' };

interface SkyRequest {
  observer: Observer;
  time: Date;
  refraction: Refraction;
}

function skyRequest(url: string): SkyRequest {
  const q = parseSkyQuery(url);
  return {
    observer: resolveObserver(q, GREENWICH),
    time: q.time ?? new Date(),
    refraction: q.refraction ?? 'normal',
  };
}

const queryErrors = errorResponses({
  400: 'invalid or unknown query parameter (the message names it)',
  405: 'method not allowed',
});

export function mountPlanets(app: OpenAPIHono): void {
  addRoute(
    app,
    {
      method: 'get',
      path: '/planets/{name}',
      summary: 'One body as seen by one observer at one instant',
      request: { params: BodyNameParam, query: SkyQuery },
      responses: {
        200: json(PlanetResponse, 'position, brightness and next rise/transit/set'),
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
      const { observer, time, refraction } = skyRequest(c.req.url);
      const p = computeBody(name, observer, time, refraction);
      return c.body(planetJson(p, isoString(time.getTime()), observer, refraction), 200, JSON_HEADERS);
    },
  );

  addRoute(
    app,
    {
      method: 'get',
      path: '/planets',
      summary: 'Every body as seen by one observer at one instant',
      request: { query: SkyQuery },
      responses: { 200: json(PlanetsResponse, 'the ten bodies, sun first'), ...queryErrors },
    },
    (c) => {
      const { observer, time, refraction } = skyRequest(c.req.url);
      const bodies = computeAll(observer, time, refraction);
      return c.body(planetsJson(isoString(time.getTime()), observer, refraction, bodies), 200, JSON_HEADERS);
    },
  );
}
