import data from './locations.json' with { type: 'json' };
import type { Location } from './types.ts';

// The grid of popular locations the worker computes every tick: cities on every continent plus
// observatories and polar stations (the polar ones exercise polar day/night). Validated once at load,
// so a bad edit to locations.json stops the process at start-up instead of surfacing as odd output.

/** IUGG mean Earth radius, km: the usual sphere for great-circle distances. */
export const EARTH_RADIUS_KM = 6371.0088;

const DEG = Math.PI / 180;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const COUNTRY = /^[A-Z]{2}$/;

function isFiniteIn(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Checks every entry and returns frozen copies; throws naming the first bad entry. */
export function validateLocations(raw: unknown): readonly Location[] {
  if (!Array.isArray(raw)) throw new Error('locations.json must be an array');
  const seen = new Set<string>();
  const out: Location[] = [];
  raw.forEach((entry: unknown, i) => {
    const e = entry as Partial<Record<keyof Location, unknown>>;
    const where = `locations.json[${i}] (${typeof e?.id === 'string' ? e.id : '?'})`;
    if (typeof e !== 'object' || e === null) throw new Error(`${where}: not an object`);
    if (typeof e.id !== 'string' || !SLUG.test(e.id)) throw new Error(`${where}: id must be a lowercase slug`);
    if (seen.has(e.id)) throw new Error(`${where}: duplicate id`);
    if (typeof e.name !== 'string' || e.name.trim() === '') throw new Error(`${where}: name must be a non-empty string`);
    if (typeof e.country !== 'string' || !COUNTRY.test(e.country)) throw new Error(`${where}: country must be ISO 3166-1 alpha-2`);
    if (!isFiniteIn(e.lat, -90, 90)) throw new Error(`${where}: lat must be within -90..90`);
    if (!isFiniteIn(e.lon, -180, 180)) throw new Error(`${where}: lon must be within -180..180`);
    if (!isFiniteIn(e.elevation, -500, 9000)) throw new Error(`${where}: elevation must be within -500..9000 m`);
    if (typeof e.timezone !== 'string' || !validTimeZone(e.timezone)) throw new Error(`${where}: timezone must be a valid IANA zone`);
    seen.add(e.id);
    out.push(
      Object.freeze({
        id: e.id,
        name: e.name,
        country: e.country,
        lat: e.lat,
        lon: e.lon,
        elevation: e.elevation,
        timezone: e.timezone,
      }),
    );
  });
  return Object.freeze(out);
}

export const LOCATIONS: readonly Location[] = validateLocations(data);

const BY_ID: ReadonlyMap<string, Location> = new Map(LOCATIONS.map((l) => [l.id, l]));

export function findLocation(id: string): Location | undefined {
  return BY_ID.get(id);
}

export interface NearestLocation {
  location: Location;
  /** great-circle distance from the asked point, kilometres */
  distanceKm: number;
}

/** Haversine great-circle distance in km (well-conditioned for small and antipodal-ish separations alike). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * DEG;
  const dLon = (lon2 - lon1) * DEG;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * DEG) * Math.cos(lat2 * DEG) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(s)));
}

// Unit vectors of the grid: the nearest point on a sphere is the one with the largest dot product,
// which needs no trigonometry per candidate and has no antimeridian seam.
const UNIT = new Float64Array(LOCATIONS.length * 3);
LOCATIONS.forEach((l, i) => {
  const cl = Math.cos(l.lat * DEG);
  UNIT[3 * i] = cl * Math.cos(l.lon * DEG);
  UNIT[3 * i + 1] = cl * Math.sin(l.lon * DEG);
  UNIT[3 * i + 2] = Math.sin(l.lat * DEG);
});

/** The grid location closest to (lat, lon) by great-circle distance. Throws RangeError for out-of-range input. */
export function nearest(lat: number, lon: number): NearestLocation {
  if (!isFiniteIn(lat, -90, 90)) throw new RangeError(`lat must be a number between -90 and 90, got ${lat}`);
  if (!isFiniteIn(lon, -180, 180)) throw new RangeError(`lon must be a number between -180 and 180, got ${lon}`);
  const cl = Math.cos(lat * DEG);
  const x = cl * Math.cos(lon * DEG);
  const y = cl * Math.sin(lon * DEG);
  const z = Math.sin(lat * DEG);
  let best = 0;
  let bestDot = -Infinity;
  for (let i = 0; i < LOCATIONS.length; i++) {
    const d = x * UNIT[3 * i]! + y * UNIT[3 * i + 1]! + z * UNIT[3 * i + 2]!;
    if (d > bestDot) {
      bestDot = d;
      best = i;
    }
  }
  const location = LOCATIONS[best]!;
  return { location, distanceKm: haversineKm(lat, lon, location.lat, location.lon) };
}
