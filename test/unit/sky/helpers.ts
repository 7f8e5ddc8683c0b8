import type { BodyPosition } from '../../../src/sky/types.ts';

/** Deterministic PRNG (Park–Miller) so a failing case can be replayed. */
export function rng(seed: number): () => number {
  let s = seed % 2147483647;
  if (s <= 0) s += 2147483646;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

const R = Math.PI / 180;

/** Great-circle separation in arcseconds between two (longitude-like, latitude-like) points in degrees. */
export function separationArcsec(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const a =
    Math.sin(((lat2 - lat1) * R) / 2) ** 2 +
    Math.cos(lat1 * R) * Math.cos(lat2 * R) * Math.sin(((lon2 - lon1) * R) / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(a)))) / R * 3600;
}

export interface Diff {
  /** separation of the (az, alt) points, arcsec */
  horizon: number;
  /** |Δalt|, arcsec */
  alt: number;
  /** separation of the (ra, dec) points, arcsec */
  equator: number;
  dec: number;
  /** |Δ|, seconds, for events both sides report; NaN when one side is null and the other not */
  events: Record<'rise' | 'set' | 'transit', number | null>;
}

export function diff(a: BodyPosition, b: BodyPosition): Diff {
  const ev = (x: string | null, y: string | null): number | null =>
    x === null && y === null ? null : x === null || y === null ? Number.NaN : Math.abs(Date.parse(x) - Date.parse(y)) / 1000;
  return {
    horizon: separationArcsec(a.az, a.alt, b.az, b.alt),
    alt: Math.abs(a.alt - b.alt) * 3600,
    equator: separationArcsec(a.ra * 15, a.dec, b.ra * 15, b.dec),
    dec: Math.abs(a.dec - b.dec) * 3600,
    events: { rise: ev(a.rise, b.rise), set: ev(a.set, b.set), transit: ev(a.transit, b.transit) },
  };
}

/** Seconds from `time` to an ISO event, or null. */
export function secondsAfter(time: Date, iso: string | null): number | null {
  return iso === null ? null : (Date.parse(iso) - time.getTime()) / 1000;
}
