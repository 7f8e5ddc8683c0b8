import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { LOCATIONS, nearest } from '../sky/locations.ts';
import { quote, resolveObserver } from './observer.ts';
import { PER_DEPLOY, cachedJson, etagOf } from './cache.ts';
import { HttpError, invalidBody } from './errors.ts';
import { addRoute, errorResponses, json } from './openapi.ts';
import {
  GeoLocationBody,
  GeoLocationResponse,
  LocationsResponse,
  NearestQuery,
  NoQuery,
  NearestResponse,
} from './schemas.ts';
import { bodyParser, formRecord, queryParser } from './validate.ts';
import { spotStreamPath } from '../spots/channel.ts';

// The grid of live locations, the nearest one to a point, and POST /geo_location (a browser's position → its stream).

/** Bodies of POST /geo_location are three numbers; anything near this size is not a location. */
export const MAX_BODY_BYTES = 16 * 1024;

const parseNoQuery = queryParser(NoQuery);
const parseNearestQuery = queryParser(NearestQuery);
const parseGeoBody = bodyParser(GeoLocationBody);

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json$/;
const FORM_TYPE = 'application/x-www-form-urlencoded';

const streamOf = (id: string): string => `/stream/${id}`;

/** The body as a record, whichever of the two accepted encodings it came in. */
async function geoBodyRecord(c: Context): Promise<Record<string, unknown>> {
  const header = c.req.header('content-type');
  const type = header?.split(';', 1)[0]?.trim().toLowerCase();
  const isJson = type !== undefined && JSON_TYPE.test(type);
  if (!isJson && type !== FORM_TYPE) {
    throw new HttpError(
      415,
      'unsupported_media_type',
      `Content-Type must be application/json or ${FORM_TYPE}, got ${header === undefined ? 'none' : quote(header)}`,
    );
  }
  const text = await c.req.text();
  if (!isJson) return formRecord(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidBody(`body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidBody(`body must be a JSON object with lat, lon and elevation, got ${quote(value)}`);
  }
  return value as Record<string, unknown>;
}

export function mountLocations(app: OpenAPIHono): void {
  mountLocationList(app);
  mountNearest(app);
  mountGeoLocation(app);
}

/** GET /locations */
function mountLocationList(app: OpenAPIHono): void {
  // Immutable data: serialised once.
  const locationsJson = JSON.stringify({ locations: LOCATIONS });
  const locationsEtag = etagOf(locationsJson);
  addRoute(
    app,
    {
      method: 'get',
      path: '/locations',
      summary: 'The grid of locations with a live stream',
      request: { query: NoQuery },
      responses: {
        200: json(LocationsResponse, 'every grid location', 'With an `ETag`; `Cache-Control: public, max-age=300`'),
        304: { description: '`If-None-Match` names the current ETag' },
        ...errorResponses({ 400: 'unknown query parameter' }),
      },
    },
    (c) => {
      parseNoQuery(c.req.url);
      return cachedJson(c, locationsJson, PER_DEPLOY, locationsEtag);
    },
  );
}

/** GET /locations/nearest */
function mountNearest(app: OpenAPIHono): void {
  addRoute(
    app,
    {
      method: 'get',
      path: '/locations/nearest',
      summary: 'The grid location nearest to a point, and its stream',
      request: { query: NearestQuery },
      responses: {
        200: json(NearestResponse, 'the nearest grid location'),
        ...errorResponses({ 400: 'missing, invalid or unknown query parameter' }),
      },
    },
    (c) => {
      const { lat, lon } = parseNearestQuery(c.req.url);
      const { location, distanceKm } = nearest(lat, lon);
      return c.json({ location, distanceKm, stream: streamOf(location.id), streams: { grid: streamOf(location.id), spot: spotStreamPath({ lat, lon }) } });
    },
  );
}

/** POST /geo_location */
function mountGeoLocation(app: OpenAPIHono): void {
  addRoute(
    app,
    {
      method: 'post',
      path: '/geo_location',
      summary: "An observer's position: echoed with its nearest grid location and that location's stream",
      request: {
        body: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': { schema: GeoLocationBody },
            'application/json': { schema: GeoLocationBody },
          },
        },
      },
      responses: {
        200: json(GeoLocationResponse, 'the observer, its nearest grid location and stream'),
        ...errorResponses({
          400: 'missing, invalid or unknown field (`invalid_parameter`) or malformed JSON (`invalid_body`)',
          413: `body larger than ${MAX_BODY_BYTES} bytes`,
          415: 'Content-Type is neither JSON nor form-encoded',
        }),
      },
    },
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new HttpError(413, 'payload_too_large', `body must be at most ${MAX_BODY_BYTES} bytes`);
      },
    }),
    async (c) => {
      parseNoQuery(c.req.url);
      const fields = parseGeoBody(await geoBodyRecord(c));
      const observer = resolveObserver(fields);
      const { location, distanceKm } = nearest(observer.lat, observer.lon);
      // lat, lon and elevation at the top level too, as the original service answered.
      const streams = { grid: streamOf(location.id), spot: spotStreamPath(observer) };
      return c.json({ ...observer, observer, nearest: { location, distanceKm }, stream: streams.grid, streams });
    },
  );
}
