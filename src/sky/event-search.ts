import type { Body } from 'astronomy-engine';
import {
  type AscentTarget,
  RISE_SET_WINDOW_DAYS,
  SOLAR_DAYS_PER_SIDEREAL_DAY,
  bodyRadiusAu,
  findAscent,
  maxAltitudeSlope,
} from './astronomy-mirror.ts';
import { fixedFrameRaHours, limbAltitudeExcess, newTopoScratch, type Site } from './topocentric.ts';
import type { Span } from './track.ts';

// Rise, set and transit on the interpolated track.
//
// The searches follow astronomy-engine's own (InternalSearchAltitude + FindAscent for rise/set,
// SearchHourAngle for transit) step for step — same windows from the start instant, same slope-bound
// pruning (astronomy-mirror.ts), same "next event after the start" rule — so they find the same event,
// and the same absence of one, in polar and grazing cases too. Only the function evaluated is cheaper
// (interpolated geocentric track + this observer), and the final root is polished by the project's own
// Brent solver to ~1 ms instead of astronomy-engine's 0.1 s, which makes the answer independent of where
// the search started.
//
// An EventSearch holds the function being searched and its scratch as fields: one per caller, reused
// across searches, so a search allocates nothing (a closure per search would be an allocation, and
// under tsx's keep-names transform a defineProperty, on the hottest path we have).

const ROOT_TOL_DAYS = 1e-8;

// The rise and the set search of one body, site and start sample the same instants before their root
// polishing: the same window ends, and the same findAscent midpoints (its pruning looks only at |altitude|).
// riseAndSet() keeps the first search's samples for the second: the same function at the same instant,
// the same value, so both answers are those of two separate riseSet() calls, bit for bit.
const MEMO_SIZE = 64;

export class EventSearch implements AscentTarget {
  private span: Span | undefined;
  private site: Site | undefined;
  private radius = 0;
  private direction = 1;
  private readonly scratch = newTopoScratch();
  private readonly memoUt = new Float64Array(MEMO_SIZE);
  private readonly memoAlt = new Float64Array(MEMO_SIZE);
  private memoN = 0;
  private memoOn = false;
  // The bracket findAscent() leaves (AscentTarget).
  t1 = 0;
  t2 = 0;
  a1 = 0;
  a2 = 0;

  private altdiff(ut: number): number {
    return this.direction * limbAltitudeExcess(this.span!, this.site!, this.radius, ut, this.scratch);
  }

  /** altdiff() for the scan (window ends and midpoints), through the memo while riseAndSet() runs. */
  sample(ut: number): number {
    if (!this.memoOn) return this.altdiff(ut);
    const memoUt = this.memoUt;
    for (let i = 0; i < this.memoN; i++) if (memoUt[i] === ut) return this.direction * this.memoAlt[i]!;
    const a = limbAltitudeExcess(this.span!, this.site!, this.radius, ut, this.scratch);
    if (this.memoN < MEMO_SIZE) {
      memoUt[this.memoN] = ut;
      this.memoAlt[this.memoN++] = a;
    }
    return this.direction * a;
  }

  /**
   * InternalSearchAltitude (limitDays ≥ 0) over limbAltitudeExcess: the first time after startUt the
   * upper limb rises (direction +1) or sets (−1) across the site's rise/set altitude, or null when
   * there is none within limitDays.
   */
  riseSet(span: Span, site: Site, body: Body, direction: 1 | -1, startUt: number, limitDays: number): number | null {
    this.span = span;
    this.site = site;
    this.radius = bodyRadiusAu(body);
    this.direction = direction;
    const maxSlope = maxAltitudeSlope(body, site.lat);
    let t1 = startUt;
    let a1 = this.sample(t1);
    for (;;) {
      const t2 = t1 + RISE_SET_WINDOW_DAYS;
      const a2 = this.sample(t2);
      if (findAscent(this, 0, maxSlope, t1, t2, a1, a2)) {
        const root = this.solveAscending(this.t1, this.t2, this.a1, this.a2);
        return root > startUt + limitDays ? null : root;
      }
      if (t2 > startUt + limitDays) return null;
      t1 = t2;
      a1 = a2;
    }
  }

  /** riseSet() for the rise (+1) and then the set (−1), the set's scan reusing the rise's samples. */
  riseAndSet(span: Span, site: Site, body: Body, startUt: number, limitDays: number): { rise: number | null; set: number | null } {
    this.memoN = 0;
    this.memoOn = true;
    try {
      const rise = this.riseSet(span, site, body, +1, startUt, limitDays);
      const set = this.riseSet(span, site, body, -1, startUt, limitDays);
      return { rise, set };
    } finally {
      this.memoOn = false;
    }
  }

  /** SearchHourAngle(body, observer, 0, start, +1): the next upper culmination at or after startUt. */
  transit(span: Span, site: Site, startUt: number): number {
    const lonHours = site.lon / 15;
    let ut = startUt;
    for (let iter = 1; iter <= 60; iter++) {
      let delta = (fixedFrameRaHours(span, site, ut, this.scratch) - lonHours) % 24;
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

  /** Root of altdiff in [a, b] with altdiff(a) < 0 ≤ altdiff(b) (Brent's method), to ROOT_TOL_DAYS. */
  private solveAscending(a: number, b: number, fa: number, fb: number): number {
    let c = a;
    let fc = fa;
    let d = b - a;
    let e = d;
    const tol = ROOT_TOL_DAYS / 2;
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
      const m = (c - b) / 2;
      if (Math.abs(m) <= tol || fb === 0) return b;
      if (Math.abs(e) >= tol && Math.abs(fa) > Math.abs(fb)) {
        const step = interpolationStep(a, b, c, fa, fb, fc, m, tol, e);
        if (Number.isNaN(step)) {
          d = m;
          e = m;
        } else {
          e = d;
          d = step;
        }
      } else {
        d = m;
        e = m;
      }
      a = b;
      fa = fb;
      b += Math.abs(d) > tol ? d : m > 0 ? tol : -tol;
      fb = this.altdiff(b);
    }
    return b;
  }
}

/**
 * Brent's secant or inverse quadratic step from b, or NaN when it would not shrink the bracket fast
 * enough (the caller then bisects).
 */
function interpolationStep(a: number, b: number, c: number, fa: number, fb: number, fc: number, m: number, tol: number, e: number): number {
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
  return 2 * p < Math.min(3 * m * q - Math.abs(tol * q), Math.abs(e * q)) ? p / q : Number.NaN;
}
