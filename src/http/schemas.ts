import { z } from '@hono/zod-openapi';
import { GREENWICH, REFRACTIONS, parseElevation, parseLat, parseLon, parseRefraction, parseTime } from './observer.ts';
import { ELEVATION_RANGE, LAT_RANGE, LON_RANGE, TIME_RANGE_TEXT } from '../sky/ranges.ts';
import { HAPPENING_KINDS, HAPPENING_SPAN_LIMIT_DAYS, PHASE_NAMES } from '../sky/happenings.ts';
import { BODY_NAMES, type BodyPosition, type Location, type Observer } from '../sky/types.ts';

// Request and response schemas, written once: the routes validate with them (src/http/validate.ts),
// /openapi.json is generated from them, and the tests check every response against them.
// Value rules and messages live in src/http/observer.ts; the schemas only wire them in and describe them.

// ---------- parameters ----------

const latDoc = {
  type: 'number' as const,
  minimum: LAT_RANGE.min,
  maximum: LAT_RANGE.max,
  description: 'Observer latitude, degrees north. Give lat and lon together.',
  example: 48.93,
};
const lonDoc = {
  type: 'number' as const,
  minimum: LON_RANGE.min,
  maximum: LON_RANGE.max,
  description: 'Observer longitude, degrees east (west is negative). Give lat and lon together.',
  example: 2.45,
};
const elevationDoc = {
  type: 'number' as const,
  minimum: ELEVATION_RANGE.min,
  maximum: ELEVATION_RANGE.max,
  description: 'Observer elevation above sea level, metres. Default 0; needs lat and lon.',
  example: 0,
};

/**
 * The query rules of GET /planets and /planets/:name, in the order they are checked. SkyQuery (and so the
 * document) is built from them, and the routes run them directly (validate.ts rulesParser) without zod.
 */
export const SKY_QUERY_RULES = {
  lat: (s: string) => parseLat(s),
  lon: (s: string) => parseLon(s),
  elevation: (s: string) => parseElevation(s),
  time: (s: string) => parseTime(s),
  refraction: (s: string) => parseRefraction(s),
};

/** Query strings arrive as strings; numbers are parsed by the sky rules, documented as numbers. */
const latQuery = z.string().transform(SKY_QUERY_RULES.lat).openapi(latDoc);
const lonQuery = z.string().transform(SKY_QUERY_RULES.lon).openapi(lonDoc);
const elevationQuery = z.string().transform(SKY_QUERY_RULES.elevation).openapi(elevationDoc);
const timeQuery = z
  .string()
  .transform(SKY_QUERY_RULES.time)
  .openapi({
    type: 'string',
    format: 'date-time',
    description: `ISO-8601 instant with a UTC offset (Z or ±hh:mm), from ${TIME_RANGE_TEXT}. Default: now. Encode "+" as %2B.`,
    example: '2026-03-20T12:00:00Z',
  });
const refractionQuery = z
  .string()
  .transform(SKY_QUERY_RULES.refraction)
  .openapi({
    type: 'string',
    enum: [...REFRACTIONS],
    description: '`normal` (default): atmospheric refraction applied, what an eye sees; `none`: airless geometry.',
    example: 'normal',
  });

const greenwichText = `With neither lat nor lon the observer is the Royal Observatory Greenwich (${GREENWICH.lat}, ${GREENWICH.lon}, ${GREENWICH.elevation} m).`;

export const SkyQuery = z
  .object({
    lat: latQuery.optional(),
    lon: lonQuery.optional(),
    elevation: elevationQuery.optional(),
    time: timeQuery.optional(),
    refraction: refractionQuery.optional(),
  })
  .strict()
  .openapi({ description: greenwichText });

export const NearestQuery = z.object({ lat: latQuery, lon: lonQuery }).strict();

/** Routes that take no query parameters still reject unknown ones. */
export const NoQuery = z.object({}).strict();

export const BodyNameParam = z.object({
  name: z.string().openapi({
    param: { name: 'name', in: 'path' },
    type: 'string',
    enum: [...BODY_NAMES],
    description: 'Body name, case-insensitive.',
    example: 'mars',
  }),
});

// JSON bodies may carry numbers or numeric strings, form bodies carry strings; the same rules apply to both.
// Missing fields are caught by resolveObserver (so the message is "lat and lon are required"), hence optional here.
export const GeoLocationBody = z
  .object({
    lat: z.unknown().transform((v) => (v === undefined ? undefined : parseLat(v))).openapi(latDoc),
    lon: z.unknown().transform((v) => (v === undefined ? undefined : parseLon(v))).openapi(lonDoc),
    elevation: z
      .unknown()
      .transform((v) => (v === undefined ? undefined : parseElevation(v)))
      .openapi(elevationDoc),
  })
  .partial()
  .strict()
  .openapi('GeoLocationRequest', { required: ['lat', 'lon'] });

// ---------- responses ----------

export const ErrorSchema = z
  .object({
    error: z.string().openapi({
      description:
        'Machine-readable code: invalid_parameter, invalid_body, unknown_body, unknown_location, not_found, ' +
        'method_not_allowed, payload_too_large, unsupported_media_type, internal',
      example: 'invalid_parameter',
    }),
    message: z.string().openapi({ example: 'lat must be a number between -90 and 90, got "abc"' }),
  })
  .strict()
  .openapi('Error');

const isoOrNull = z.string().nullable().openapi({ format: 'date-time' });

export const ObserverSchema = z
  .object({
    lat: z.number().openapi({ description: 'degrees north' }),
    lon: z.number().openapi({ description: 'degrees east' }),
    elevation: z.number().openapi({ description: 'metres above sea level' }),
  })
  .strict()
  .openapi('Observer');

const bodyPositionShape = {
  name: z.enum(BODY_NAMES),
  az: z.number().openapi({ description: 'azimuth, degrees from north through east, [0, 360)' }),
  alt: z.number().openapi({ description: 'altitude above the horizon, degrees' }),
  ra: z.number().openapi({ description: 'right ascension, hours, equator of date' }),
  dec: z.number().openapi({ description: 'declination, degrees, equator of date' }),
  distance: z.number().openapi({ description: 'distance from the observer, astronomical units' }),
  magnitude: z.number().openapi({ description: 'apparent visual magnitude' }),
  phase: z.number().openapi({ description: 'illuminated fraction, 0..1' }),
  constellation: z.string().openapi({ description: 'IAU three-letter abbreviation', example: 'Gem' }),
  aboveHorizon: z.boolean(),
  rise: isoOrNull.openapi({ description: 'next rise after `time`, or null if none within a day' }),
  transit: isoOrNull.openapi({ description: 'next upper transit after `time`, or null if none within a day' }),
  set: isoOrNull.openapi({ description: 'next set after `time`, or null if none within a day' }),
};

export const BodyPositionSchema = z.object(bodyPositionShape).strict().openapi('BodyPosition');

const refractionOut = z.enum(REFRACTIONS as ['normal', 'none']);
const timeOut = z.string().openapi({ format: 'date-time', description: 'the instant computed for' });

export const PlanetResponse = z
  .object({ ...bodyPositionShape, time: timeOut, observer: ObserverSchema, refraction: refractionOut })
  .strict()
  .openapi('PlanetResponse');

export const PlanetsResponse = z
  .object({
    time: timeOut,
    observer: ObserverSchema,
    refraction: refractionOut,
    bodies: z.array(BodyPositionSchema).openapi({ description: 'every body, sun first, pluto last' }),
  })
  .strict()
  .openapi('PlanetsResponse');

export const LocationSchema = z
  .object({
    id: z.string().openapi({ example: 'london' }),
    name: z.string(),
    country: z.string().openapi({ description: 'ISO 3166-1 alpha-2' }),
    lat: z.number(),
    lon: z.number(),
    elevation: z.number(),
    timezone: z.string().openapi({ description: 'IANA time zone' }),
  })
  .strict()
  .openapi('Location');

export const LocationsResponse = z.object({ locations: z.array(LocationSchema) }).strict().openapi('LocationsResponse');

const streamPath = z.string().openapi({ description: 'SSE stream of the nearest grid location', example: '/stream/paris' });
const streams = z
  .object({
    grid: z.string().openapi({ description: 'SSE stream of the nearest grid location (a city)', example: '/stream/paris' }),
    spot: z.string().openapi({
      description: 'SSE stream of the exact spot (docs/exact-spot.md): the sky computed for these coordinates',
      example: '/stream?lat=48.93&lon=2.45',
    }),
  })
  .strict()
  .openapi({ description: 'Both live streams for this point: the nearest grid city and the exact spot' });
const distanceKm = z.number().openapi({ description: 'great-circle distance to the grid location, km' });

export const NearestResponse = z
  .object({ location: LocationSchema, distanceKm, stream: streamPath, streams })
  .strict()
  .openapi('NearestResponse');

export const GeoLocationResponse = z
  .object({
    // The observer at the top level too, as the original service answered (seed compatibility).
    ...ObserverSchema.shape,
    observer: ObserverSchema,
    nearest: z.object({ location: LocationSchema, distanceKm }).strict(),
    stream: streamPath,
    streams,
  })
  .strict()
  .openapi('GeoLocationResponse');

export const HealthResponse = z.object({ status: z.literal('ok') }).strict().openapi('Health');
export const ReadyResponse = z
  .object({ status: z.enum(['ready', 'not_ready']), reason: z.string().optional() })
  .strict()
  .openapi('Ready');

// The schemas must describe exactly the shared types; this fails to compile if either drifts.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const assertSame = <T extends true>(): T | undefined => undefined;
assertSame<Same<z.output<typeof BodyPositionSchema>, BodyPosition>>();
assertSame<Same<z.output<typeof LocationSchema>, Location>>();
assertSame<Same<z.output<typeof ObserverSchema>, Observer>>();

// ---------- GET /events ----------

const HAPPENING_DESCRIPTION =
  'A sky happening: `kind`, `time`, the body (or two `bodies` for an approach), its azimuth and altitude at that ' +
  'moment, and the fields of its kind.';

export const HappeningSchema = z
  .object({
    kind: z.enum(HAPPENING_KINDS),
    time: z.string().openapi({ format: 'date-time', description: 'the instant (greatest eclipse for an eclipse), UTC' }),
    body: z.enum(BODY_NAMES).optional(),
    bodies: z.array(z.enum(BODY_NAMES)).length(2).optional().openapi({ description: 'approach: the two bodies' }),
    az: z.number().openapi({ description: 'azimuth of the body (the first of `bodies`) at `time`, degrees' }),
    alt: z.number().openapi({ description: 'altitude of the body at `time`, degrees, refraction included' }),
    twilight: z.enum(['civil', 'nautical', 'astronomical']).optional().openapi({ description: 'dusk/dawn: Sun at −6°, −12°, −18°' }),
    phase: z.enum(PHASE_NAMES).optional(),
    eclipse: z.enum(['lunar', 'solar']).optional(),
    type: z.string().optional().openapi({ description: 'eclipse: penumbral, partial, annular, total; conjunction of Mercury or Venus: inferior, superior' }),
    contacts: z.record(z.string(), z.string()).optional().openapi({ description: 'eclipse contact times, UTC' }),
    visible: z.boolean().optional().openapi({ description: 'eclipse: the body above this horizon at the peak' }),
    obscuration: z.number().optional().openapi({ description: 'eclipse: fraction of the disc covered at the peak' }),
    elongation: z.number().optional().openapi({ description: 'degrees from the Sun' }),
    visibility: z.string().optional().openapi({ description: 'elongation: morning or evening' }),
    separation: z.number().optional().openapi({ description: 'approach: degrees between the two bodies' }),
  })
  .strict()
  .openapi('Happening', { description: HAPPENING_DESCRIPTION });

const spanLimitsText = Object.entries(HAPPENING_SPAN_LIMIT_DAYS)
  .map(([k, d]) => `${k} ${d} d`)
  .join(', ');

export const EventsQuery = z
  .object({
    location: z.string().optional().openapi({ description: 'a grid location id (instead of lat/lon), e.g. `london`' }),
    lat: z.string().optional().openapi(latDoc),
    lon: z.string().optional().openapi(lonDoc),
    elevation: z.string().optional().openapi(elevationDoc),
    from: z.string().optional().openapi({ type: 'string', format: 'date-time', description: 'start of the span (default now)' }),
    to: z.string().optional().openapi({ type: 'string', format: 'date-time', description: 'end of the span (default from + 24 h)' }),
    kinds: z.string().optional().openapi({
      description: `comma list of ${HAPPENING_KINDS.join(', ')} (default all). Longest span per kind: ${spanLimitsText}.`,
      example: 'phase,eclipse',
    }),
  })
  .strict()
  .openapi({ description: greenwichText });

export const EventsResponse = z
  .object({
    observer: ObserverSchema,
    location: z.string().optional().openapi({ description: 'the grid location id, when asked by `location`' }),
    from: z.string().openapi({ format: 'date-time' }),
    to: z.string().openapi({ format: 'date-time' }),
    kinds: z.array(z.enum(HAPPENING_KINDS)),
    events: z.array(HappeningSchema),
  })
  .strict()
  .openapi('EventsResponse');

// ---------- GET /tonight ----------

export const TonightQuery = z
  .object({
    lat: z.string().optional().openapi(latDoc),
    lon: z.string().optional().openapi(lonDoc),
    elevation: z.string().optional().openapi(elevationDoc),
    date: z.string().optional().openapi({ type: 'string', format: 'date', description: 'the evening of this date (default: today at the observer)', example: '2026-03-20' }),
  })
  .strict()
  .openapi({ description: greenwichText });

const isoNull = z.string().nullable().openapi({ format: 'date-time' });
const twilightTimes = z.object({ civil: isoNull, nautical: isoNull, astronomical: isoNull }).strict();

export const TonightResponse = z
  .object({
    observer: ObserverSchema,
    date: z.string(),
    from: z.string().openapi({ format: 'date-time', description: 'local solar noon of `date`' }),
    to: z.string().openapi({ format: 'date-time', description: 'local solar noon of the next day' }),
    sun: z.object({ sunset: isoNull, sunrise: isoNull, dusk: twilightTimes, dawn: twilightTimes }).strict(),
    night: z.enum(['normal', 'polar_day', 'polar_night', 'white_night']),
    reason: z.string().optional(),
    bodies: z.array(
      z
        .object({
          name: z.enum(BODY_NAMES),
          magnitude: z.number(),
          instrument: z.enum(['naked_eye', 'binoculars', 'telescope']).openapi({ description: 'magnitude ≤ 6, ≤ 9, fainter' }),
          visible: z.boolean(),
          darkFrom: z.enum(['civil', 'nautical', 'astronomical']).openapi({ description: 'bright bodies (mag ≤ 1.5) from civil dusk, the others from astronomical dusk' }),
          window: z.object({ start: z.string(), end: z.string() }).strict().nullable().openapi({ description: 'at least 10° up while dark enough' }),
          best: z.object({ time: z.string(), az: z.number(), alt: z.number(), constellation: z.string() }).strict().nullable(),
          reason: z.string().optional(),
        })
        .strict(),
    ),
  })
  .strict()
  .openapi('TonightResponse');
