import { Body, KM_PER_AU } from 'astronomy-engine';

// What the fast path copies from astronomy-engine's private internals (astronomy.js, not exported):
// its Earth model, the rise/set search's window, slope bound and ascent bisection, the Earth rotation
// angle and the visual magnitude laws. The fast path has to evaluate the same definitions as the
// library's own functions (the reference path, reference-path.ts) to agree with them to well under an
// arcsecond, so these are copied, not re-derived. Everything else in src/sky is the project's own.
//
// When astronomy-engine is upgraded, test/unit/sky/astronomy-mirror.test.ts fails on the version pin
// below: compare these with the new astronomy.js, then move the pin.

/** The astronomy-engine release these copies were taken from (its package.json "version"). */
export const MIRRORED_ASTRONOMY_ENGINE_VERSION = '2.1.19';

// ---- Earth model (terra(), Atmosphere(), SearchRiseSet()) ----------------------------------------

/** Ratio of the polar to the equatorial Earth radius. */
export const EARTH_FLATTENING = 0.996647180302104;
export const EARTH_EQUATORIAL_RADIUS_KM = 6378.1366;
/** Refraction at the horizon used by the rise/set search, degrees (scaled by air density). */
export const REFRACTION_NEAR_HORIZON = 34 / 60;

/** Radius whose upper limb defines rise and set, AU (0: a point). */
export function bodyRadiusAu(body: Body): number {
  if (body === Body.Sun) return 695700.0 / KM_PER_AU;
  if (body === Body.Moon) return 1738.1 / KM_PER_AU;
  return 0;
}

// ---- time ------------------------------------------------------------------------------------------

export const SOLAR_DAYS_PER_SIDEREAL_DAY = 0.9972695717592592;

/** Earth rotation angle in degrees, exactly as astronomy-engine computes it (era()). */
export function earthRotationDeg(ut: number): number {
  const thet1 = 0.779057273264 + 0.00273781191135448 * ut;
  const thet3 = ut % 1;
  let theta = 360 * ((thet1 + thet3) % 1);
  if (theta < 0) theta += 360;
  return theta;
}

/** d(ERA)/d(UT) in degrees per day: 360 × 1.00273781191135448 (the constant inside era()). */
// biome-ignore lint/correctness/noPrecisionLoss: the IAU constant as published; the nearest double is what is meant
export const ERA_RATE = 360 * 1.00273781191135448;

/** UT of the B1875 equinox Constellation() precesses to (ConstelRot). */
export const CONSTELLATION_EPOCH_UT = -45655.74141261017;

// ---- rise/set search (InternalSearchAltitude, MaxAltitudeSlope, FindAscent) ------------------------

/** Length of each window the rise/set search scans, days. */
export const RISE_SET_WINDOW_DAYS = 0.42;
const SECONDS_PER_DAY = 86_400;

/** MaxAltitudeSlope: a bound on |d altitude / dt| in degrees per day. */
export function maxAltitudeSlope(body: Body, latitude: number): number {
  let dRa: number;
  let dDec: number;
  switch (body) {
    case Body.Moon: dRa = 4.5; dDec = 8.2; break;
    case Body.Sun: dRa = 0.8; dDec = 0.5; break;
    case Body.Mercury: dRa = -1.6; dDec = 1.0; break;
    case Body.Venus: dRa = -0.8; dDec = 0.6; break;
    case Body.Mars: dRa = -0.5; dDec = 0.4; break;
    default: dRa = -0.2; dDec = 0.2; break;
  }
  const lat = (Math.PI / 180) * latitude;
  return Math.abs((360.0 / SOLAR_DAYS_PER_SIDEREAL_DAY - dRa) * Math.cos(lat)) + Math.abs(dDec * Math.sin(lat));
}

/** What findAscent() searches: the function it samples, and where it leaves the bracket it finds. */
export interface AscentTarget {
  sample(ut: number): number;
  /** bracket [t1, t2] with sample(t1) = a1 < 0 ≤ a2 = sample(t2), written by findAscent() */
  t1: number;
  t2: number;
  a1: number;
  a2: number;
}

/**
 * FindAscent: bisects [t1, t2] (values a1, a2) down to a bracket where the function goes from negative
 * to non-negative, pruning halves whose values are too far from zero for maxSlope to reach it.
 */
export function findAscent(
  target: AscentTarget,
  depth: number,
  maxSlope: number,
  t1: number,
  t2: number,
  a1: number,
  a2: number,
): boolean {
  if (a1 < 0 && a2 >= 0) {
    target.t1 = t1;
    target.t2 = t2;
    target.a1 = a1;
    target.a2 = a2;
    return true;
  }
  if (a1 >= 0 && a2 < 0) return false;
  if (depth > 17) throw new Error('sky: excessive recursion in rise/set ascent search');
  const dt = t2 - t1;
  if (dt * SECONDS_PER_DAY < 1.0) return false;
  const da = Math.min(Math.abs(a1), Math.abs(a2));
  if (da > maxSlope * (dt / 2)) return false;
  const tmid = (t1 + t2) / 2;
  const amid = target.sample(tmid);
  return (
    findAscent(target, depth + 1, maxSlope, t1, tmid, a1, amid) ||
    findAscent(target, depth + 1, maxSlope, tmid, t2, amid, a2)
  );
}

// ---- visual magnitude (VisualMagnitude, MoonMagnitude, SaturnMagnitude) ---------------------------

const ASEC180 = 180 * 60 * 60;
const AU_PER_PARSEC = ASEC180 / Math.PI;
const SUN_MAG_1AU = -0.17 - 5 * Math.log10(AU_PER_PARSEC);
const MOON_MEAN_DISTANCE_AU = 385000.6 / 1.4959787069098932e8;
const DEG = Math.PI / 180;

/**
 * Visual magnitude of body from Illumination()'s geometry: phase angle (deg), distances from the Sun
 * and from the Earth (AU), Saturn's ring tilt (deg; other bodies ignore it).
 */
export function visualMagnitude(body: Body, phaseAngle: number, helioDist: number, geoDist: number, ringTilt: number): number {
  if (body === Body.Sun) return SUN_MAG_1AU + 5 * Math.log10(geoDist);
  if (body === Body.Moon) {
    const rad = phaseAngle * DEG;
    const rad4 = rad * rad * rad * rad;
    return -12.717 + 1.49 * Math.abs(rad) + 0.0431 * rad4 + 5 * Math.log10(helioDist * (geoDist / MOON_MEAN_DISTANCE_AU));
  }
  if (body === Body.Saturn) {
    const sinTilt = Math.sin(Math.abs(ringTilt * DEG));
    return -9.0 + 0.044 * phaseAngle + sinTilt * (-2.6 + 1.2 * sinTilt) + 5 * Math.log10(helioDist * geoDist);
  }
  const c = planetLaw(body, phaseAngle);
  const x = phaseAngle / 100;
  return c[0] + x * (c[1] + x * (c[2] + x * c[3])) + 5 * Math.log10(helioDist * geoDist);
}

type Law = readonly [number, number, number, number];
const LAWS: Partial<Record<Body, Law>> = {
  [Body.Mercury]: [-0.6, 4.98, -4.88, 3.02],
  [Body.Mars]: [-1.52, 1.6, 0, 0],
  [Body.Jupiter]: [-9.4, 0.5, 0, 0],
  [Body.Uranus]: [-7.19, 0.25, 0, 0],
  [Body.Neptune]: [-6.87, 0, 0, 0],
  [Body.Pluto]: [-1.0, 4.0, 0, 0],
};
const VENUS_NEAR: Law = [-4.47, 1.03, 0.57, 0.13];
const VENUS_FAR: Law = [0.98, -1.02, 0, 0];

/** Polynomial coefficients in phaseAngle/100 of a planet's law (Venus switches law at 163.6°). */
function planetLaw(body: Body, phaseAngle: number): Law {
  if (body === Body.Venus) return phaseAngle < 163.6 ? VENUS_NEAR : VENUS_FAR;
  const law = LAWS[body];
  if (law === undefined) throw new Error(`no magnitude law for ${body}`);
  return law;
}
