import type { Location } from './types.ts';

// PLACEHOLDER until the sky work lands: the grid of popular locations (data file beside this module).
export const LOCATIONS: readonly Location[] = [
  { id: 'london', name: 'London', country: 'GB', lat: 51.5072, lon: -0.1276, elevation: 11, timezone: 'Europe/London' },
];

export function findLocation(id: string): Location | undefined {
  return LOCATIONS.find((l) => l.id === id);
}

export interface NearestLocation {
  location: Location;
  /** great-circle distance from the asked point, kilometres */
  distanceKm: number;
}

export function nearest(lat: number, lon: number): NearestLocation {
  void lat; void lon;
  return { location: LOCATIONS[0]!, distanceKm: 0 };
}
