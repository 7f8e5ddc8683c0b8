import { type OpenAPIHono, z } from '@hono/zod-openapi';
import { LAT_RANGE, LON_RANGE } from '../sky/ranges.ts';
import { InvalidInputError, quote } from './observer.ts';
import { type Place, nearestPlace, searchPlaces, timeZoneAt } from '../places/gazetteer.ts';
import { PER_DEPLOY, cachedJson } from './cache.ts';
import { addRoute, errorResponses, json } from './openapi.ts';
import { NearestQuery } from './schemas.ts';
import { queryParser, rulesParser } from './validate.ts';

// GET /places?q=: a place name (or typed coordinates) → places with their coordinates and time zone, searched on the
// server so the gazetteer never travels to a browser. GET /timezone?lat=&lon=: the time zone of any point.

const MAX_QUERY = 100;
const DEFAULT_LIMIT = 8;
const MAX_LIMIT = 20;

const PlacesQuery = z
  .object({
    q: z.string().openapi({ description: `a place name ("Paris", "paris, fr") or coordinates ("48.85, 2.35", "33.9 S 18.4 E"); 1 to ${MAX_QUERY} characters`, example: 'Paris' }),
    limit: z.string().optional().openapi({ type: 'integer', description: `at most this many places, 1 to ${MAX_LIMIT} (default ${DEFAULT_LIMIT})`, example: '5' }),
  })
  .strict();

const PlaceSchema = z
  .object({
    name: z.string(),
    country: z.string().optional().openapi({ description: 'ISO 3166-1 alpha-2; absent for typed coordinates' }),
    lat: z.number(),
    lon: z.number(),
    population: z.number().optional(),
    timezone: z.string().openapi({ description: 'IANA time zone at these coordinates', example: 'Europe/Paris' }),
    kind: z.enum(['city', 'coordinates']),
    near: z.object({ name: z.string(), country: z.string(), distanceKm: z.number() }).strict().optional().openapi({ description: 'for typed coordinates: the nearest populated place' }),
  })
  .strict()
  .openapi('Place');

const PlacesResponse = z.object({ query: z.string(), places: z.array(PlaceSchema) }).strict().openapi('PlacesResponse');
const TimeZoneResponse = z.object({ lat: z.number(), lon: z.number(), timezone: z.string() }).strict().openapi('TimeZoneResponse');

const parsePlacesQuery = rulesParser({
  q: (s: string) => {
    const q = s.trim();
    if (q.length === 0 || q.length > MAX_QUERY) throw new InvalidInputError('q', `q must be 1 to ${MAX_QUERY} characters, got ${quote(s)}`);
    return q;
  },
  limit: (s: string) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < 1 || n > MAX_LIMIT) throw new InvalidInputError('limit', `limit must be an integer from 1 to ${MAX_LIMIT}, got ${quote(s)}`);
    return n;
  },
});
const parseTimeZoneQuery = queryParser(NearestQuery);

const NUMBER = String.raw`([-+−]?\d+(?:[.,]\d+)?)\s*°?\s*([NSEWnsew])?`;
const COORDINATES = new RegExp(String.raw`^${NUMBER}\s*[,;\s]\s*${NUMBER}$`);

/** "48.85, 2.35", "48.85N 2.35E", "33.9 S, 18.4 E": a latitude then a longitude; null when `q` is not coordinates. */
export function parseCoordinates(q: string): { lat: number; lon: number } | null {
  const m = COORDINATES.exec(q.trim());
  if (!m) return null;
  const value = (num: string, hemi: string | undefined, axis: 'lat' | 'lon'): number => {
    let v = Number(num.replace('−', '-').replace(',', '.'));
    const h = hemi?.toUpperCase();
    if (h) {
      if (!(axis === 'lat' ? 'NS' : 'EW').includes(h)) {
        throw new InvalidInputError('q', `q: ${axis === 'lat' ? 'the latitude takes N or S' : 'the longitude takes E or W'}, got ${quote(q)}`);
      }
      if (v < 0) throw new InvalidInputError('q', `q: a minus sign or ${h}, not both, got ${quote(q)}`);
      if (h === 'S' || h === 'W') v = -v;
    }
    const range = axis === 'lat' ? LAT_RANGE : LON_RANGE;
    if (v < range.min || v > range.max) {
      throw new InvalidInputError('q', `q: ${axis === 'lat' ? 'latitude' : 'longitude'} must be between ${range.min} and ${range.max}, got ${quote(q)}`);
    }
    return v;
  };
  return { lat: value(m[1]!, m[2], 'lat'), lon: value(m[3]!, m[4], 'lon') };
}

const latLonName = (lat: number, lon: number): string =>
  `${Math.abs(lat).toFixed(4)}° ${lat < 0 ? 'S' : 'N'}, ${Math.abs(lon).toFixed(4)}° ${lon < 0 ? 'W' : 'E'}`;

export function mountPlaces(app: OpenAPIHono): void {
  addRoute(
    app,
    {
      method: 'get',
      path: '/places',
      summary: 'Search places by name, or read typed coordinates: coordinates and time zone of each',
      request: { query: PlacesQuery },
      responses: {
        200: json(PlacesResponse, 'matching places, most populous first (an exact name ahead of a longer one)', PER_DEPLOY),
        ...errorResponses({ 400: 'missing or invalid q or limit (the message names it)' }),
      },
    },
    async (c) => {
      const query = parsePlacesQuery(c.req.url);
      if (query.q === undefined) throw new InvalidInputError('q', 'q is required: a place name or coordinates');
      const q = query.q;
      const point = parseCoordinates(q);
      let places: (Place & { near?: { name: string; country: string; distanceKm: number } })[];
      if (point) {
        const { place, distanceKm } = await nearestPlace(point.lat, point.lon);
        places = [
          {
            name: latLonName(point.lat, point.lon),
            lat: point.lat,
            lon: point.lon,
            timezone: timeZoneAt(point.lat, point.lon),
            kind: 'coordinates' as const,
            near: { name: place.name, country: place.country ?? '', distanceKm: Math.round(distanceKm * 10) / 10 },
          },
        ];
      } else {
        places = await searchPlaces(q, query.limit ?? DEFAULT_LIMIT);
      }
      return cachedJson(c, JSON.stringify({ query: q, places }), PER_DEPLOY);
    },
  );

  addRoute(
    app,
    {
      method: 'get',
      path: '/timezone',
      summary: 'The IANA time zone at any coordinates (over the sea: its nautical zone, Etc/GMT±n)',
      request: { query: NearestQuery },
      responses: {
        200: json(TimeZoneResponse, 'the zone', PER_DEPLOY),
        ...errorResponses({ 400: 'missing or invalid lat or lon' }),
      },
    },
    (c) => {
      const { lat, lon } = parseTimeZoneQuery(c.req.url);
      return cachedJson(c, JSON.stringify({ lat, lon, timezone: timeZoneAt(lat, lon) }), PER_DEPLOY);
    },
  );
}
