import { nearest } from './locations.ts';
import type { Location, Observer } from './types.ts';

// The cell an exact spot is computed for. Viewers whose coordinates fall in one cell share one computation per tick;
// the cell is small enough that what it changes in azimuth and altitude stays far below 0.01° (docs/exact-spot.md,
// test/unit/sky/cell.test.ts).
//
// Latitude and longitude snap to the nearest multiple of CELL_DEGREES (a square of about 11 m north–south and at most
// 11 m east–west), elevation to the nearest multiple of CELL_ELEVATION_M. A coordinate written with at most four
// decimals is its own cell centre, so such a spot is computed exactly where it is.

/** Cell size in latitude and in longitude, degrees. */
export const CELL_DEGREES = 1e-4;
/** Decimals of a cell coordinate: CELL_DEGREES written out. */
export const CELL_DECIMALS = 4;
/** Elevation step, metres: moves the Moon by about a millionth of a degree and rise/set by well under a second. */
export const CELL_ELEVATION_M = 10;
/** A spot farther than this from every grid city gets the nautical time zone of its longitude instead of the city's. */
export const NEAREST_ZONE_KM = 500;

export interface Cell {
  /** `<lat>,<lon>,<elevation>`, latitude and longitude with CELL_DECIMALS decimals, elevation in metres */
  id: string;
  /** the snapped observer the cell is computed for */
  lat: number;
  lon: number;
  elevation: number;
}

const SCALE = 10 ** CELL_DECIMALS;

/** Nearest multiple of CELL_DEGREES as the double nearest to that decimal (what parsing it would give). */
function snapDegrees(x: number): number {
  const n = Math.round(x * SCALE);
  return n === 0 ? 0 : n / SCALE;
}

/** The cell of an observer (a validated one: lat −90..90, lon −180..180). */
export function cellOf(o: Observer): Cell {
  const lat = snapDegrees(o.lat);
  let lon = snapDegrees(o.lon);
  // 180 and −180 are one meridian: one cell.
  if (lon === 180) lon = -180;
  const e = Math.round(o.elevation / CELL_ELEVATION_M) * CELL_ELEVATION_M;
  const elevation = e === 0 ? 0 : e;
  return { id: `${lat.toFixed(CELL_DECIMALS)},${lon.toFixed(CELL_DECIMALS)},${elevation}`, lat, lon, elevation };
}

const hemisphere = (x: number, pos: string, neg: string): string => `${Math.abs(x).toFixed(CELL_DECIMALS)}° ${x < 0 ? neg : pos}`;

/**
 * The `location` of a spot's snapshots (the grid snapshots' field, same shape): the cell, named by its coordinates.
 * Time zone: the nearest grid city's when one is within NEAREST_ZONE_KM, else the nautical zone of the longitude
 * (`Etc/GMT±h`, whose sign is inverted by the tz database's convention). Country: none known (empty).
 */
export function cellLocation(cell: Cell): Location {
  const near = nearest(cell.lat, cell.lon);
  return {
    id: cell.id,
    name: `${hemisphere(cell.lat, 'N', 'S')}, ${hemisphere(cell.lon, 'E', 'W')}`,
    country: '',
    lat: cell.lat,
    lon: cell.lon,
    elevation: cell.elevation,
    timezone: near.distanceKm <= NEAREST_ZONE_KM ? near.location.timezone : nauticalZone(cell.lon),
  };
}

/** `Etc/GMT-9` for 135° E (UTC+9), `Etc/UTC` near Greenwich; zones run ±7.5° around each multiple of 15°. */
export function nauticalZone(lon: number): string {
  const h = Math.max(-12, Math.min(12, Math.round(lon / 15)));
  return h === 0 ? 'Etc/UTC' : `Etc/GMT${h > 0 ? '-' : '+'}${Math.abs(h)}`;
}
