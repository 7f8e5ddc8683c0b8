// Wire precision of BodyPosition numbers.
//
// Both the on-demand path and the grid round their numbers here, so the stream and GET /planets carry
// the same values. The steps are far below the engine's accuracy (1e-7° is 0.00036"), and short
// decimals let bodies-json.ts format numbers with integer arithmetic: JSON.stringify's shortest-double
// conversion was the largest single cost of a grid tick.

export const DECIMALS = {
  az: 7,
  alt: 7,
  /** hours: 1e-8 h is 0.00054" */
  ra: 8,
  dec: 7,
  /** AU: 1e-12 AU is 15 cm */
  distance: 12,
  magnitude: 6,
  phase: 8,
} as const;

export const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12] as const;

/** x rounded to `decimals` places (the double nearest to the decimal; never -0). */
export function roundTo(x: number, decimals: number): number {
  const f = POW10[decimals]!;
  const r = Math.round(x * f) / f;
  return r === 0 ? 0 : r;
}

const ZEROS = '000000000000';

/**
 * String(x) for an x already rounded by roundTo(x, decimals), without the generic shortest-double
 * algorithm: the same characters JSON.stringify writes.
 */
export function formatRounded(x: number, decimals: number): string {
  const ax = x < 0 ? -x : x;
  const f = POW10[decimals]!;
  // Below 1e-6 JavaScript writes an exponent; and once the double's spacing nears the decimal step,
  // the shortest form may have fewer digits than ours. Leave both to String().
  if ((ax < 1e-6 && ax !== 0) || ax * f >= 2 ** 49) return String(x);
  const n = Math.round(ax * f);
  const ip = Math.floor(n / f);
  let frac = n - ip * f;
  const sign = x < 0 ? '-' : '';
  if (frac === 0) return sign + ip;
  let digits = decimals;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  const fs = '' + frac;
  return sign + ip + '.' + (fs.length < digits ? ZEROS.slice(0, digits - fs.length) + fs : fs);
}
