// The data shapes shared by the sky code, the HTTP routes and the stream. Plain JSON-ready values.

export const BODY_NAMES = [
  'sun', 'moon', 'mercury', 'venus', 'mars', 'jupiter', 'saturn', 'uranus', 'neptune', 'pluto',
] as const;
export type BodyName = (typeof BODY_NAMES)[number];

/** `normal`: what an eye sees (standard atmospheric refraction); `none`: airless geometry. */
export type Refraction = 'normal' | 'none';

/** Geodetic observer: degrees north, degrees east (east-positive), metres above sea level. */
export interface Observer {
  lat: number;
  lon: number;
  elevation: number;
}

/** One body as seen by one observer at one instant. Times are ISO-8601 UTC strings. */
export interface BodyPosition {
  name: BodyName;
  /** degrees from north through east, [0, 360) */
  az: number;
  /** degrees above the horizon */
  alt: number;
  /** hours, [0, 24), equator of date */
  ra: number;
  /** degrees, equator of date */
  dec: number;
  /** astronomical units from the observer */
  distance: number;
  magnitude: number;
  /** illuminated fraction, 0..1 */
  phase: number;
  /** IAU three-letter abbreviation */
  constellation: string;
  aboveHorizon: boolean;
  rise: string | null;
  transit: string | null;
  set: string | null;
}

/** A grid location: a city or observatory the worker computes every tick. */
export interface Location {
  /** lowercase slug, e.g. `london`, `mauna-kea` */
  id: string;
  name: string;
  country: string;
  lat: number;
  lon: number;
  elevation: number;
  /** IANA time zone, e.g. `Europe/London` */
  timezone: string;
}

/** What one SSE `update` event carries for one location at one tick. */
export interface Snapshot {
  location: Location;
  /** the tick's instant, ISO-8601 UTC */
  time: string;
  bodies: BodyPosition[];
  /** epoch ms at which the worker published this snapshot (for publish-to-receive latency) */
  publishedAt: number;
}
