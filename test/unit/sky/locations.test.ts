import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import raw from '../../../src/sky/locations.json' with { type: 'json' };
import { LOCATIONS, findLocation, nearest, validateLocations } from '../../../src/sky/locations.ts';

// Independent haversine (written out again here on purpose, with a plain loop over the raw JSON).
function bruteNearest(lat: number, lon: number): { id: string; km: number } {
  const R = 6371.0088;
  const r = Math.PI / 180;
  let best = { id: '', km: Infinity };
  for (const l of raw as Array<{ id: string; lat: number; lon: number }>) {
    const a =
      Math.sin(((l.lat - lat) * r) / 2) ** 2 +
      Math.cos(lat * r) * Math.cos(l.lat * r) * Math.sin(((l.lon - lon) * r) / 2) ** 2;
    const km = 2 * R * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a));
    if (km < best.km) best = { id: l.id, km };
  }
  return best;
}

// Country → continent for the countries the grid uses (test-only table).
const CONTINENT: Record<string, string> = {};
const add = (c: string, codes: string) => codes.split(' ').forEach((k) => (CONTINENT[k] = c));
add('Europe', 'GB FR DE ES IT NL BE AT CH SE NO DK FI IE PT GR PL CZ HU UA RU IS SJ TR');
add('Asia', 'JP CN HK KR TW SG TH ID PH MY VN IN LK PK BD NP AE SA IR IL KZ UZ MN');
add('Africa', 'EG NG KE UG ET ZA MA GH SN CD AO TZ TN DZ SD MG NA');
add('North America', 'US CA GL MX CU PA PR');
add('South America', 'BR AR CL PE CO EC VE BO UY GF');
add('Oceania', 'AU NZ FJ WS TO PG NC PF KI');
add('Antarctica', 'AQ');

describe('locations data', () => {
  it('has at least 110 valid, uniquely named entries', () => {
    expect(LOCATIONS.length).toBeGreaterThanOrEqual(110);
    expect(new Set(LOCATIONS.map((l) => l.id)).size).toBe(LOCATIONS.length);
    const region = new Intl.DisplayNames(['en'], { type: 'region' });
    for (const l of LOCATIONS) {
      expect(l.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      // DisplayNames echoes the code back for codes it does not know.
      expect(region.of(l.country), `${l.id} country ${l.country}`).not.toBe(l.country);
      expect(Math.abs(l.lat)).toBeLessThanOrEqual(90);
      expect(Math.abs(l.lon)).toBeLessThanOrEqual(180);
      expect(() => new Intl.DateTimeFormat(undefined, { timeZone: l.timezone })).not.toThrow();
      expect(findLocation(l.id)).toBe(l);
    }
  });

  it('covers every continent, with the required cities, observatories and polar sites', () => {
    const continents = new Set(LOCATIONS.map((l) => CONTINENT[l.country] ?? `unmapped ${l.country}`));
    expect([...continents].sort()).toEqual(
      ['Africa', 'Antarctica', 'Asia', 'Europe', 'North America', 'Oceania', 'South America'],
    );
    for (const id of [
      'london', 'paris', 'new-york', 'tokyo', 'sydney', 'melbourne', 'greenwich', 'mauna-kea', 'paranal',
      'la-silla', 'cerro-tololo', 'roque-de-los-muchachos', 'siding-spring', 'kitt-peak', 'palomar',
      'mount-wilson', 'lick', 'saao-sutherland', 'arecibo', 'jodrell-bank', 'pic-du-midi', 'hanle',
      'mount-graham', 'mcmurdo', 'south-pole', 'longyearbyen', 'reykjavik', 'tromso', 'ushuaia',
    ]) {
      expect(findLocation(id), id).toBeDefined();
    }
    expect(LOCATIONS.some((l) => l.lat > 75)).toBe(true);
    expect(LOCATIONS.some((l) => l.lat < -85)).toBe(true);
    // Places the grid's sanity depends on: London really is where London is.
    expect(findLocation('london')).toMatchObject({ country: 'GB', timezone: 'Europe/London' });
    expect(findLocation('london')!.lat).toBeCloseTo(51.5, 0);
  });

  it('findLocation is exact and case-sensitive', () => {
    expect(findLocation('London')).toBeUndefined();
    expect(findLocation('')).toBeUndefined();
    expect(findLocation('__proto__')).toBeUndefined();
  });

  it('validateLocations rejects bad entries', () => {
    const ok = { id: 'x', name: 'X', country: 'GB', lat: 0, lon: 0, elevation: 0, timezone: 'UTC' };
    expect(validateLocations([ok])).toHaveLength(1);
    expect(() => validateLocations([ok, ok])).toThrow(/duplicate/);
    expect(() => validateLocations([{ ...ok, id: 'Bad Id' }])).toThrow(/slug/);
    expect(() => validateLocations([{ ...ok, lat: 91 }])).toThrow(/lat/);
    expect(() => validateLocations([{ ...ok, lon: -181 }])).toThrow(/lon/);
    expect(() => validateLocations([{ ...ok, lat: Number.NaN }])).toThrow(/lat/);
    expect(() => validateLocations([{ ...ok, timezone: 'Mars/Olympus_Mons' }])).toThrow(/timezone/);
    expect(() => validateLocations([{ ...ok, country: 'gbr' }])).toThrow(/country/);
    expect(() => validateLocations({})).toThrow(/array/);
  });
});

describe('nearest', () => {
  it('matches a brute-force haversine search on random points', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -90, max: 90, noNaN: true }),
        fc.double({ min: -180, max: 180, noNaN: true }),
        (lat, lon) => {
          const got = nearest(lat, lon);
          const want = bruteNearest(lat, lon);
          expect(got.distanceKm).toBeCloseTo(want.km, 6);
          // Exact ties aside, the same location.
          if (got.location.id !== want.id) expect(Math.abs(got.distanceKm - want.km)).toBeLessThan(1e-6);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('is exact at a grid location', () => {
    for (const l of LOCATIONS) {
      const n = nearest(l.lat, l.lon);
      expect(n.location.id).toBe(l.id);
      expect(n.distanceKm).toBeLessThan(1e-6);
    }
  });

  it('works across the antimeridian', () => {
    // Just east of the antimeridian, Apia (lon −171.8) is far closer than anything at +170 going the long way.
    const a = nearest(-13.8, 179.9);
    expect(a.location.id).toBe('suva');
    const b = nearest(-13.8, -179.9);
    expect(b.location.id).toBe(bruteNearest(-13.8, -179.9).id);
    expect(b.distanceKm).toBeLessThan(1000);
    // A point at lon −180 and one at +180 are the same point.
    expect(nearest(-20, -180).location).toBe(nearest(-20, 180).location);
    expect(nearest(-20, -180).distanceKm).toBeCloseTo(nearest(-20, 180).distanceKm, 6);
  });

  it('works at and near the poles', () => {
    expect(nearest(-90, 0).location.id).toBe('south-pole');
    expect(nearest(-90, 123).location.id).toBe('south-pole');
    expect(nearest(-90, 0).distanceKm).toBeLessThan(1);
    expect(nearest(90, 0).location.id).toBe('longyearbyen');
    // The North Pole is the same point at every longitude.
    for (const lon of [-180, -90, 0, 45, 180]) expect(nearest(90, lon).distanceKm).toBeCloseTo(nearest(90, 0).distanceKm, 6);
    expect(nearest(-89.99, 10).location.id).toBe('south-pole');
  });

  it('rejects out-of-range input instead of guessing', () => {
    expect(() => nearest(91, 0)).toThrow(RangeError);
    expect(() => nearest(0, 181)).toThrow(RangeError);
    expect(() => nearest(Number.NaN, 0)).toThrow(RangeError);
  });
});
