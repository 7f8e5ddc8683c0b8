import {
  Constellation,
  Equator,
  Horizon,
  Illumination,
  MakeTime,
  Observer as EngineObserver,
  SearchHourAngle,
  SearchRiseSet,
} from 'astronomy-engine';
import { ENGINE_BODY } from './bodies.ts';
import type { BodyName, BodyPosition, Observer, Refraction } from './types.ts';

// The reference path: astronomy-engine's own functions, one body at a time, per observer. It is what
// the fast path (fast-path.ts, grid.ts) is tested against, and the baseline of bench:sky.

const DAY_MS = 86_400_000;

export function computeBodyNaive(
  name: BodyName,
  observer: Observer,
  time: Date,
  refraction: Refraction = 'normal',
): BodyPosition {
  const body = ENGINE_BODY[name];
  const t = MakeTime(time);
  const obs = new EngineObserver(observer.lat, observer.lon, observer.elevation);
  const ofDate = Equator(body, t, obs, true, true);
  const j2000 = Equator(body, t, obs, false, true);
  const hor = Horizon(t, obs, ofDate.ra, ofDate.dec, refraction === 'normal' ? 'normal' : undefined);
  const illum = Illumination(body, t);
  const within = (d: Date | undefined): string | null =>
    d && d.getTime() - time.getTime() <= DAY_MS ? d.toISOString() : null;
  const rise = SearchRiseSet(body, obs, +1, t, 1);
  const set = SearchRiseSet(body, obs, -1, t, 1);
  const transit = SearchHourAngle(body, obs, 0, t, +1);
  return {
    name,
    az: hor.azimuth,
    alt: hor.altitude,
    ra: ofDate.ra,
    dec: ofDate.dec,
    distance: ofDate.dist,
    magnitude: illum.mag,
    phase: illum.phase_fraction,
    constellation: Constellation(j2000.ra, j2000.dec).symbol,
    aboveHorizon: hor.altitude > 0,
    rise: within(rise?.date),
    transit: within(transit.time.date),
    set: within(set?.date),
  };
}
