import { Atmosphere, KM_PER_AU } from 'astronomy-engine';
import { EARTH_EQUATORIAL_RADIUS_KM, EARTH_FLATTENING, ERA_RATE, REFRACTION_NEAR_HORIZON } from './astronomy-mirror.ts';
import { DEG, RAD2DEG, RAD2HOUR, SPAN_STRIDE, stencil, type Span } from './track.ts';
import type { Observer } from './types.ts';

// The observer-dependent half: where the observer is (once per observer) and, per instant, the
// topocentric vector = interpolated geocentric vector − observer vector, turned to the horizon.
// The formulas follow astronomy-engine's terra(), Horizon() and SearchRiseSet() (with its Earth model
// from astronomy-mirror.ts) so the results agree with its per-observer functions to well under an arcsecond.
//
// The interpolating functions work in a caller's scratch (newTopoScratch()): no module-level state, and
// no allocation per call on the hot path.

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

/** Scratch layout: [0..5] the stencil's weights, [6..8] topo()'s topocentric vector (Earth-fixed frame, AU). */
const TOPO_SCRATCH_SIZE = 9;
const TX = 6;
const TY = 7;
const TZ = 8;

/** Scratch for the functions below; one per caller, reused across calls. */
export function newTopoScratch(): Float64Array {
  return new Float64Array(TOPO_SCRATCH_SIZE);
}

/** Interpolated topocentric vector at ut, into scratch[TX..TZ] (the scratch also holds the weights). */
function topo(span: Span, site: Site, ut: number, scratch: Float64Array): void {
  const d = span.data;
  let j = stencil(span, ut, scratch) * SPAN_STRIDE;
  let ax = 0;
  let ay = 0;
  let az = 0;
  let s = 0;
  for (let m = 0; m < 6; m++, j += SPAN_STRIDE) {
    const w = scratch[m]!;
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
  scratch[TX] = c * ax + sn * ay - site.px;
  scratch[TY] = c * ay - sn * ax - site.py;
  scratch[TZ] = az - site.pz;
}

/**
 * Rise/set function of astronomy-engine's InternalSearchAltitude (before its direction sign):
 * airless topocentric altitude of the upper limb minus the site's rise/set altitude, degrees.
 */
export function limbAltitudeExcess(span: Span, site: Site, radiusAu: number, ut: number, scratch: Float64Array): number {
  topo(span, site, ut, scratch);
  const tx = scratch[TX]!;
  const ty = scratch[TY]!;
  const tz = scratch[TZ]!;
  const pz = tx * site.zx + ty * site.zy + tz * site.zz;
  const pn = tx * site.nx + ty * site.ny + tz * site.nz;
  const pw = tx * site.wx + ty * site.wy;
  let alt = 90 - RAD2DEG * Math.atan2(Math.sqrt(pn * pn + pw * pw), pz);
  if (radiusAu !== 0) alt += RAD2DEG * Math.asin(radiusAu / Math.sqrt(tx * tx + ty * ty + tz * tz));
  return alt - site.riseSetAltitude;
}

/** Topocentric right ascension of date minus GAST, hours in (−12, 12]: SearchHourAngle's moving target. */
export function fixedFrameRaHours(span: Span, site: Site, ut: number, scratch: Float64Array): number {
  topo(span, site, ut, scratch);
  return RAD2HOUR * Math.atan2(scratch[TY]!, scratch[TX]!);
}

// ---- one instant, split by what each piece depends on ------------------------------------------
// geocentricAt: the body alone (once per body per instant); observerAt: the observer alone (once per
// observer per instant); topocentricAt: both (a subtraction, three dot products, the angles). The on-demand
// path and the grid path run these same functions, so for the same location and instant they agree
// to the last bit.

/** Layout of geocentricAt()'s output. */
export const GeocentricLayout = {
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
export function geocentricAt(span: Span, ut: number, g: Float64Array, scratch: Float64Array): Float64Array {
  const d = span.data;
  const i0 = stencil(span, ut, scratch);
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
    const w = scratch[m]!;
    ax += w * d[j]!;
    ay += w * d[j + 1]!;
    az += w * d[j + 2]!;
    s += w * d[j + 3]!;
    const v = span.knots[i0 + m]!.v;
    jx += w * v[4]!;
    jy += w * v[5]!;
    jz += w * v[6]!;
    if (w > scratch[best]!) best = m;
  }
  // Same expression as topo(), so the searches and the instant see the same GAST.
  const gast = span.era0 + ERA_RATE * (ut - span.ut0) + s;
  const rad = gast * DEG;
  let wrapped = gast % 360;
  if (wrapped < 0) wrapped += 360;
  g[GeocentricLayout.X] = ax;
  g[GeocentricLayout.Y] = ay;
  g[GeocentricLayout.Z] = az;
  g[GeocentricLayout.Gast] = wrapped;
  g[GeocentricLayout.Cos] = Math.cos(rad);
  g[GeocentricLayout.Sin] = Math.sin(rad);
  g[GeocentricLayout.JX] = jx;
  g[GeocentricLayout.JY] = jy;
  g[GeocentricLayout.JZ] = jz;
  return span.knots[i0 + best]!.v;
}

/** Layout of observerAt()'s output. */
export const ObserverLayout = {
  /** geocentric observer, J2000 (EQJ), AU */
  JX: 0,
  JY: 1,
  JZ: 2,
  Size: 3,
} as const;

/** The observer's geocentric J2000 position at the instant of g (knot: geocentricAt()'s return value). */
export function observerAt(site: Site, g: Float64Array, knot: Float64Array, o: Float64Array): void {
  const c = g[GeocentricLayout.Cos]!;
  const sn = g[GeocentricLayout.Sin]!;
  const ox = c * site.px - sn * site.py;
  const oy = sn * site.px + c * site.py;
  const oz = site.pz;
  const M = knot;
  o[ObserverLayout.JX] = M[7]! * ox + M[10]! * oy + M[13]! * oz;
  o[ObserverLayout.JY] = M[8]! * ox + M[11]! * oy + M[14]! * oz;
  o[ObserverLayout.JZ] = M[9]! * ox + M[12]! * oy + M[15]! * oz;
}

/** Layout of topocentricAt()'s output. */
export const TopocentricLayout = {
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
export function topocentricAt(g: Float64Array, site: Site, o: Float64Array, out: Float64Array): void {
  const c = g[GeocentricLayout.Cos]!;
  const sn = g[GeocentricLayout.Sin]!;
  const ax = g[GeocentricLayout.X]!;
  const ay = g[GeocentricLayout.Y]!;
  // Earth-fixed frame, exactly as topo() forms it.
  const tx = c * ax + sn * ay - site.px;
  const ty = c * ay - sn * ax - site.py;
  const tz = g[GeocentricLayout.Z]! - site.pz;
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
  out[TopocentricLayout.Az] = az;
  out[TopocentricLayout.Alt] = 90 - RAD2DEG * Math.atan2(proj, pz);
  out[TopocentricLayout.Ra] = ra;
  out[TopocentricLayout.Dec] = RAD2DEG * Math.atan2(tz, Math.sqrt(xy));
  out[TopocentricLayout.Dist] = Math.sqrt(xy + tz * tz);
  out[TopocentricLayout.JX] = g[GeocentricLayout.JX]! - o[ObserverLayout.JX]!;
  out[TopocentricLayout.JY] = g[GeocentricLayout.JY]! - o[ObserverLayout.JY]!;
  out[TopocentricLayout.JZ] = g[GeocentricLayout.JZ]! - o[ObserverLayout.JZ]!;
}

/** Interpolated Illumination() geometry at ut: [gc(3), hc(3), ring tilt]. */
export function illuminationAt(span: Span, ut: number, into: Float64Array, scratch: Float64Array): void {
  const i0 = stencil(span, ut, scratch);
  into.fill(0);
  for (let m = 0; m < 6; m++) {
    const v = span.knots[i0 + m]!.illumination();
    const w = scratch[m]!;
    for (let q = 0; q < 7; q++) into[q]! += w * v[q]!;
  }
}
