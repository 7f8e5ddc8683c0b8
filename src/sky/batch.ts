import { BODY_NAMES } from './bodies.ts';
import { computeBodyNaive } from './ephemeris.ts';
import type { BodyPosition, Location } from './types.ts';

// PLACEHOLDER until the sky work lands: the grid path for the worker (one instant, every location × every body).

export interface LocationSky {
  location: Location;
  bodies: BodyPosition[];
}

export interface GridComputer {
  /** The whole grid at one instant, in the order of the locations given. */
  compute(time: Date): LocationSky[];
}

export function createGridComputer(locations: readonly Location[]): GridComputer {
  return {
    compute: (time) =>
      locations.map((location) => ({
        location,
        bodies: BODY_NAMES.map((name) => computeBodyNaive(name, location, time)),
      })),
  };
}
