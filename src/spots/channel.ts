import type { PublishItem } from '../broker/broker.ts';
import { cellLocation, type Cell } from '../sky/cell.ts';
import type { PositionCalculator } from '../sky/fast-path.ts';
import { computeGeoFrame, encodeGeoFrame } from '../sky/geo-frame.ts';
import type { Location, Observer } from '../sky/types.ts';

// Names and bytes of exact-spot streams.
//
// The worker publishes one geocentric frame per tick on FRAME_CHANNEL (one channel, one history, whatever the number
// of spots). On an API node a spot's stream is the hub channel `spot:<lat>,<lon>,<elevation>`: the observer exactly as
// requested, so viewers asking for the same coordinates share one channel and one frame of bytes, and viewers in one
// cell share one computation (spot-broker.ts). Spot channels never reach Redis.

/** The broker channel of the per-tick geocentric frame; no grid location id can look like it (ids are slugs). */
export const FRAME_CHANNEL = '_frame';
const SPOT_PREFIX = 'spot:';

/** The hub channel of an observer's spot stream (numbers in JavaScript's canonical form). */
export const spotChannel = (o: Observer): string => `${SPOT_PREFIX}${o.lat},${o.lon},${o.elevation}`;

export const isSpotChannel = (channel: string): boolean => channel.startsWith(SPOT_PREFIX);

/** spotChannel() reversed; undefined for anything else. */
export function spotObserverOf(channel: string): Observer | undefined {
  if (!isSpotChannel(channel)) return undefined;
  const parts = channel.slice(SPOT_PREFIX.length).split(',');
  if (parts.length !== 3) return undefined;
  const [lat, lon, elevation] = parts.map(Number) as [number, number, number];
  if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && Number.isFinite(elevation))) return undefined;
  return { lat, lon, elevation };
}

/** The query string of an observer's spot stream, as /locations/nearest and POST /geo_location name it. */
export function spotStreamPath(o: { lat: number; lon: number; elevation?: number | undefined }): string {
  return `/stream?lat=${o.lat}&lon=${o.lon}${o.elevation ? `&elevation=${o.elevation}` : ''}`;
}

/** What a spot snapshot says before its `time`: the grid snapshot's `location` (the cell, see cellLocation), then `observer` as requested and the `cell` it was computed for. */
export interface SpotHead {
  location: Location;
  observer: { latitude: number; longitude: number; elevation: number };
  cell: { id: string; latitude: number; longitude: number; elevation: number };
}

export function spotHeadOf(o: Observer, cell: Cell): SpotHead {
  return {
    location: cellLocation(cell),
    observer: { latitude: o.lat, longitude: o.lon, elevation: o.elevation },
    cell: { id: cell.id, latitude: cell.lat, longitude: cell.lon, elevation: cell.elevation },
  };
}

/**
 * A spot snapshot's text up to its `time` (the object left open). The rest (`time`, `bodies`, `publishedAt`) follows
 * per tick, in the grid snapshot's order.
 */
export const spotHeadText = (head: SpotHead): string => JSON.stringify(head).slice(0, -1);

/** The worker's frame for one tick, as a broker item (it is stored and resumed like a snapshot). */
export function frameItem(tickMs: number, publishedAt: number, calc: PositionCalculator): PublishItem {
  return { channel: FRAME_CHANNEL, id: tickMs, data: encodeGeoFrame(computeGeoFrame(new Date(tickMs), calc), publishedAt) };
}
