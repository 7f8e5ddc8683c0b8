import { Body, KM_PER_AU } from 'astronomy-engine';
import { DEG } from './track.ts';
import type { Span } from './track.ts';
import { fixedFrameRaHours, limbAltitudeExcess, type Site } from './topocentric.ts';

// Rise, set and transit on the interpolated track.
//
// The searches follow astronomy-engine's own (InternalSearchAltitude + FindAscent for rise/set,
// SearchHourAngle for transit) step for step — same 0.42-day windows from the start instant, same
// slope-bound pruning, same "next event after the start" rule — so they find the same event, and the
// same absence of one, in polar and grazing cases too. Only the function evaluated is cheaper
// (interpolated geocentric track + this observer), and the final root is polished to ~1 ms instead of
// astronomy-engine's 0.1 s, which makes the answer independent of where the search started.

const RISE_SET_DT = 0.42;
const SECONDS_PER_DAY = 86_400;
const SOLAR_DAYS_PER_SIDEREAL_DAY = 0.9972695717592592;
const ROOT_TOL_DAYS = 1e-8;

export function bodyRadiusAu(body: Body): number {
  if (body === Body.Sun) return 695700.0 / KM_PER_AU;
  if (body === Body.Moon) return 1738.1 / KM_PER_AU;
  return 0;
}

/** astronomy-engine's MaxAltitudeSlope: a bound on |d altitude / dt| in degrees per day. */
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
  const lat = DEG * latitude;
  return Math.abs((360.0 / SOLAR_DAYS_PER_SIDEREAL_DAY - dRa) * Math.cos(lat)) + Math.abs(dDec * Math.sin(lat));
}

// The function being searched, as module state rather than a closure: a closure per search is an
// allocation (and, under tsx's keep-names transform, a defineProperty) on the hottest path we have.
let SPAN: Span;
let SITE: Site;
let RADIUS = 0;
let DIRECTION = 1;

function altdiff(ut: number): number {
  return DIRECTION * limbAltitudeExcess(SPAN, SITE, RADIUS, ut);
}

// The rise and the set search of one body, site and start sample the same instants before their root
// polishing: the same window ends, and the same findAscent midpoints (its pruning looks only at |altitude|).
// searchRiseAndSet() keeps the first search's samples for the second: the same function at the same instant,
// the same value, so both answers are those of two separate searchRiseSet() calls, bit for bit.
const MEMO_SIZE = 64;
const MEMO_UT = new Float64Array(MEMO_SIZE);
const MEMO_ALT = new Float64Array(MEMO_SIZE);
let MEMO_N = 0;
let MEMO_ON = false;

/** altdiff() for the scan (window ends and midpoints), through the memo while searchRiseAndSet runs. */
function sampled(ut: number): number {
  if (!MEMO_ON) return altdiff(ut);
  for (let i = 0; i < MEMO_N; i++) if (MEMO_UT[i] === ut) return DIRECTION * MEMO_ALT[i]!;
  const a = limbAltitudeExcess(SPAN, SITE, RADIUS, ut);
  if (MEMO_N < MEMO_SIZE) {
    MEMO_UT[MEMO_N] = ut;
    MEMO_ALT[MEMO_N++] = a;
  }
  return DIRECTION * a;
}

// Bracket found by findAscent (module state for the same reason).
let BT1 = 0;
let BT2 = 0;
let BA1 = 0;
let BA2 = 0;

function findAscent(depth: number, maxSlope: number, t1: number, t2: number, a1: number, a2: number): boolean {
  if (a1 < 0 && a2 >= 0) {
    BT1 = t1;
    BT2 = t2;
    BA1 = a1;
    BA2 = a2;
    return true;
  }
  if (a1 >= 0 && a2 < 0) return false;
  if (depth > 17) throw new Error('sky: excessive recursion in rise/set ascent search');
  const dt = t2 - t1;
  if (dt * SECONDS_PER_DAY < 1.0) return false;
  const da = Math.min(Math.abs(a1), Math.abs(a2));
  if (da > maxSlope * (dt / 2)) return false;
  const tmid = (t1 + t2) / 2;
  const amid = sampled(tmid);
  return findAscent(depth + 1, maxSlope, t1, tmid, a1, amid) || findAscent(depth + 1, maxSlope, tmid, t2, amid, a2);
}

/** Root of altdiff in [a, b] with altdiff(a) < 0 ≤ altdiff(b) (Brent's method), to ROOT_TOL_DAYS. */
function solveAscending(a: number, b: number, fa: number, fb: number): number {
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (let iter = 0; iter < 100; iter++) {
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
      d = e = b - a;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b; b = c; c = a;
      fa = fb; fb = fc; fc = fa;
    }
    const tol = ROOT_TOL_DAYS / 2;
    const m = (c - b) / 2;
    if (Math.abs(m) <= tol || fb === 0) return b;
    if (Math.abs(e) >= tol && Math.abs(fa) > Math.abs(fb)) {
      let p: number;
      let q: number;
      const s = fb / fa;
      if (a === c) {
        p = 2 * m * s;
        q = 1 - s;
      } else {
        const qa = fa / fc;
        const r = fb / fc;
        p = s * (2 * m * qa * (qa - r) - (b - a) * (r - 1));
        q = (qa - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (2 * p < Math.min(3 * m * q - Math.abs(tol * q), Math.abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = m;
        e = m;
      }
    } else {
      d = m;
      e = m;
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol ? d : m > 0 ? tol : -tol;
    fb = altdiff(b);
  }
  return b;
}

/**
 * InternalSearchAltitude (limitDays ≥ 0) over limbAltitudeExcess: the first time after startUt the
 * upper limb rises (direction +1) or sets (−1) across the site's rise/set altitude, or null when
 * there is none within limitDays.
 */
export function searchRiseSet(
  span: Span,
  site: Site,
  body: Body,
  direction: 1 | -1,
  startUt: number,
  limitDays: number,
): number | null {
  SPAN = span;
  SITE = site;
  RADIUS = bodyRadiusAu(body);
  DIRECTION = direction;
  const maxSlope = maxAltitudeSlope(body, site.lat);
  let t1 = startUt;
  let a1 = sampled(t1);
  for (;;) {
    const t2 = t1 + RISE_SET_DT;
    const a2 = sampled(t2);
    if (findAscent(0, maxSlope, t1, t2, a1, a2)) {
      const root = solveAscending(BT1, BT2, BA1, BA2);
      return root > startUt + limitDays ? null : root;
    }
    if (t2 > startUt + limitDays) return null;
    t1 = t2;
    a1 = a2;
  }
}

/** searchRiseSet() for the rise (+1) and then the set (−1), the set's scan reusing the rise's samples. */
export function searchRiseAndSet(
  span: Span,
  site: Site,
  body: Body,
  startUt: number,
  limitDays: number,
): { rise: number | null; set: number | null } {
  MEMO_N = 0;
  MEMO_ON = true;
  try {
    const rise = searchRiseSet(span, site, body, +1, startUt, limitDays);
    const set = searchRiseSet(span, site, body, -1, startUt, limitDays);
    return { rise, set };
  } finally {
    MEMO_ON = false;
  }
}

/** SearchHourAngle(body, observer, 0, start, +1): the next upper culmination at or after startUt. */
export function searchTransit(span: Span, site: Site, startUt: number): number {
  const lonHours = site.lon / 15;
  let ut = startUt;
  for (let iter = 1; iter <= 60; iter++) {
    let delta = (fixedFrameRaHours(span, site, ut) - lonHours) % 24;
    if (iter === 1) {
      if (delta < 0) delta += 24;
    } else if (delta < -12) {
      delta += 24;
    } else if (delta > 12) {
      delta -= 24;
    }
    // astronomy-engine stops at 0.1 s; we go on to ~1 ms so the answer does not depend on the start.
    if (Math.abs(delta) * 3600 < 1e-3) return ut;
    ut += (delta / 24) * SOLAR_DAYS_PER_SIDEREAL_DAY;
  }
  throw new Error('sky: transit search did not converge');
}
