import { Atmosphere, KM_PER_AU } from 'astronomy-engine';
import { DEG, ERA_RATE, RAD2DEG, RAD2HOUR, SPAN_STRIDE, stencil, type Span } from './track.ts';
import type { Observer } from './types.ts';

// The observer-dependent half: where the observer is (once per observer) and, per instant, the
// topocentric vector = interpolated geocentric vector − observer vector, turned to the horizon.
// The formulas mirror astronomy-engine's terra(), Horizon() and SearchRiseSet() so the results agree
// with its per-observer functions to well under an arcsecond.

// astronomy-engine's Earth model and rise/set constants (astronomy.js, not exported).
const EARTH_FLATTENING = 0.996647180302104;
const EARTH_EQUATORIAL_RADIUS_KM = 6378.1366;
const REFRACTION_NEAR_HORIZON = 34 / 60;

/** Everything about an observer that does not change with time. */
export interface Site {
  readonly lat: number;
  readonly lon: number;
  readonly elevation: number;
  /** geocentric position in the Earth-fixed frame (the equator-of-date frame at GAST = 0), AU */
  readonly px: number;
  readonly py: number;
  readonly pz: number;
  /** local zenith, north and west unit vectors in the same frame */
  readonly zx: number;
  readonly zy: number;
  readonly zz: number;
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  readonly wx: number;
  readonly wy: number;
  /** altitude the upper limb crosses at rise/set: horizon minus refraction at ground density (deg) */
  readonly riseSetAltitude: number;
}

export function makeSite(o: Observer): Site {
  const phi = o.lat * DEG;
  const sinphi = Math.sin(phi);
  const cosphi = Math.cos(phi);
  const c = 1 / Math.hypot(cosphi, EARTH_FLATTENING * sinphi);
  const s = EARTH_FLATTENING * EARTH_FLATTENING * c;
  const htKm = o.elevation / 1000;
  const ach = EARTH_EQUATORIAL_RADIUS_KM * c + htKm;
  const ash = EARTH_EQUATORIAL_RADIUS_KM * s + htKm;
  const lam = o.lon * DEG;
  const sinlon = Math.sin(lam);
  const coslon = Math.cos(lam);
  return {
    lat: o.lat,
    lon: o.lon,
    elevation: o.elevation,
    px: (ach * cosphi * coslon) / KM_PER_AU,
    py: (ach * cosphi * sinlon) / KM_PER_AU,
    pz: (ash * sinphi) / KM_PER_AU,
    zx: cosphi * coslon,
    zy: cosphi * sinlon,
    zz: sinphi,
    nx: -sinphi * coslon,
    ny: -sinphi * sinlon,
    nz: cosphi,
    wx: sinlon,
    wy: -coslon,
    // SearchRiseSet with metersAboveGround = 0: no dip, refraction scaled by the air density at the site.
    riseSetAltitude: -REFRACTION_NEAR_HORIZON * Atmosphere(o.elevation).density,
  };
}

const W = new Float64Array(6);
// Scratch results of topo(): topocentric vector in the Earth-fixed frame (AU).
let TX = 0;
let TY = 0;
let TZ = 0;

function topo(span: Span, site: Site, ut: number): void {
  const d = span.data;
  let j = stencil(span, ut, W) * SPAN_STRIDE;
  let ax = 0;
  let ay = 0;
  let az = 0;
  let s = 0;
  for (let m = 0; m < 6; m++, j += SPAN_STRIDE) {
    const w = W[m]!;
    ax += w * d[j]!;
    ay += w * d[j + 1]!;
    az += w * d[j + 2]!;
    s += w * d[j + 3]!;
  }
  const gast = span.era0 + ERA_RATE * (ut - span.ut0) + s;
  const g = gast * DEG;
  const c = Math.cos(g);
  const sn = Math.sin(g);
  // Rotating the body by −GAST instead of the observer by +GAST: same dot products, one rotation.
  TX = c * ax + sn * ay - site.px;
  TY = c * ay - sn * ax - site.py;
  TZ = az - site.pz;
}

/**
 * Rise/set function of astronomy-engine's InternalSearchAltitude (before its direction sign):
 * airless topocentric altitude of the upper limb minus the site's rise/set altitude, degrees.
 */
export function limbAltitudeExcess(span: Span, site: Site, radiusAu: number, ut: number): number {
  topo(span, site, ut);
  const pz = TX * site.zx + TY * site.zy + TZ * site.zz;
  const pn = TX * site.nx + TY * site.ny + TZ * site.nz;
  const pw = TX * site.wx + TY * site.wy;
  let alt = 90 - RAD2DEG * Math.atan2(Math.sqrt(pn * pn + pw * pw), pz);
  if (radiusAu !== 0) alt += RAD2DEG * Math.asin(radiusAu / Math.sqrt(TX * TX + TY * TY + TZ * TZ));
  return alt - site.riseSetAltitude;
}

/** Topocentric right ascension of date minus GAST, hours in (−12, 12]: SearchHourAngle's moving target. */
export function fixedFrameRaHours(span: Span, site: Site, ut: number): number {
  topo(span, site, ut);
  return RAD2HOUR * Math.atan2(TY, TX);
}

// ---- one instant, split by what each piece depends on ------------------------------------------
// geocentricAt: the body alone (once per body per instant); observerAt: the observer alone (once per
// observer per instant); pairAt: both (a subtraction, three dot products, the angles). The on-demand
// path and the grid path run these same functions, so for the same location and instant they agree
// to the last bit.

/** Layout of geocentricAt()'s output. */
export const Geo = {
  /** apparent geocentric vector, true equator of date (AU) */
  X: 0,
  Y: 1,
  Z: 2,
  /** GAST in degrees, [0, 360) */
  Gast: 3,
  /** cos and sin of GAST */
  Cos: 4,
  Sin: 5,
  /** apparent geocentric vector, J2000 (EQJ) */
  JX: 6,
  JY: 7,
  JZ: 8,
  Size: 9,
} as const;

/**
 * Interpolated geocentric state at ut. Returns the nearest knot's sample, whose EQJ→EQD matrix carries
 * the observer back to J2000 for the constellation (the observer is ≤ 1/57 of the Moon's distance, so
 * that matrix's drift over two hours is invisible).
 */
export function geocentricAt(span: Span, ut: number, g: Float64Array): Float64Array {
  const d = span.data;
  const i0 = stencil(span, ut, W);
  let j = i0 * SPAN_STRIDE;
  let ax = 0;
  let ay = 0;
  let az = 0;
  let s = 0;
  let jx = 0;
  let jy = 0;
  let jz = 0;
  let best = 0;
  for (let m = 0; m < 6; m++, j += SPAN_STRIDE) {
    const w = W[m]!;
    ax += w * d[j]!;
    ay += w * d[j + 1]!;
    az += w * d[j + 2]!;
    s += w * d[j + 3]!;
    const v = span.knots[i0 + m]!.v;
    jx += w * v[4]!;
    jy += w * v[5]!;
    jz += w * v[6]!;
    if (w > W[best]!) best = m;
  }
  // Same expression as topo(), so the searches and the instant see the same GAST.
  const gast = span.era0 + ERA_RATE * (ut - span.ut0) + s;
  const rad = gast * DEG;
  let wrapped = gast % 360;
  if (wrapped < 0) wrapped += 360;
  g[Geo.X] = ax;
  g[Geo.Y] = ay;
  g[Geo.Z] = az;
  g[Geo.Gast] = wrapped;
  g[Geo.Cos] = Math.cos(rad);
  g[Geo.Sin] = Math.sin(rad);
  g[Geo.JX] = jx;
  g[Geo.JY] = jy;
  g[Geo.JZ] = jz;
  return span.knots[i0 + best]!.v;
}

/** Layout of observerAt()'s output. */
export const Obs = {
  /** geocentric observer, J2000 (EQJ), AU */
  JX: 0,
  JY: 1,
  JZ: 2,
  Size: 3,
} as const;

/** The observer's geocentric J2000 position at the instant of g (knot: geocentricAt()'s return value). */
export function observerAt(site: Site, g: Float64Array, knot: Float64Array, o: Float64Array): void {
  const c = g[Geo.Cos]!;
  const sn = g[Geo.Sin]!;
  const ox = c * site.px - sn * site.py;
  const oy = sn * site.px + c * site.py;
  const oz = site.pz;
  const M = knot;
  o[Obs.JX] = M[7]! * ox + M[10]! * oy + M[13]! * oz;
  o[Obs.JY] = M[8]! * ox + M[11]! * oy + M[14]! * oz;
  o[Obs.JZ] = M[9]! * ox + M[12]! * oy + M[15]! * oz;
}

/** Layout of pairAt()'s output. */
export const Pair = {
  Az: 0,
  /** airless altitude */
  Alt: 1,
  Ra: 2,
  Dec: 3,
  Dist: 4,
  /** topocentric vector, J2000 (EQJ), for the constellation */
  JX: 5,
  JY: 6,
  JZ: 7,
  Size: 8,
} as const;

/** Topocentric position as astronomy-engine's Equator(ofdate, aberration) + Horizon(no refraction) give it. */
export function pairAt(g: Float64Array, site: Site, o: Float64Array, out: Float64Array): void {
  const c = g[Geo.Cos]!;
  const sn = g[Geo.Sin]!;
  const ax = g[Geo.X]!;
  const ay = g[Geo.Y]!;
  // Earth-fixed frame, exactly as topo() forms it.
  const tx = c * ax + sn * ay - site.px;
  const ty = c * ay - sn * ax - site.py;
  const tz = g[Geo.Z]! - site.pz;
  const pz = tx * site.zx + ty * site.zy + tz * site.zz;
  const pn = tx * site.nx + ty * site.ny + tz * site.nz;
  const pw = tx * site.wx + ty * site.wy;
  const proj = Math.sqrt(pn * pn + pw * pw);
  let az = 0;
  if (proj > 0) {
    az = -RAD2DEG * Math.atan2(pw, pn);
    if (az < 0) az += 360;
  }
  // Back to the equator of date for RA/Dec.
  const x = c * tx - sn * ty;
  const y = sn * tx + c * ty;
  const xy = x * x + y * y;
  let ra = RAD2HOUR * Math.atan2(y, x);
  if (ra < 0) ra += 24;
  out[Pair.Az] = az;
  out[Pair.Alt] = 90 - RAD2DEG * Math.atan2(proj, pz);
  out[Pair.Ra] = ra;
  out[Pair.Dec] = RAD2DEG * Math.atan2(tz, Math.sqrt(xy));
  out[Pair.Dist] = Math.sqrt(xy + tz * tz);
  out[Pair.JX] = g[Geo.JX]! - o[Obs.JX]!;
  out[Pair.JY] = g[Geo.JY]! - o[Obs.JY]!;
  out[Pair.JZ] = g[Geo.JZ]! - o[Obs.JZ]!;
}

/** Interpolated Illumination() geometry at ut: [gc(3), hc(3), ring tilt]. */
export function illuminationAt(span: Span, ut: number, into: Float64Array): void {
  const i0 = stencil(span, ut, W);
  into.fill(0);
  for (let m = 0; m < 6; m++) {
    const v = span.knots[i0 + m]!.illumination();
    const w = W[m]!;
    for (let q = 0; q < 7; q++) into[q]! += w * v[q]!;
  }
}
