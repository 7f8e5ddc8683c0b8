import type { BodyPosition } from './types.ts';

// Wire precision of BodyPosition numbers, and a serialiser for them.
//
// Both paths (computeBody and the grid) round their numbers here, so the stream and GET /planets carry
// the same values. The steps are far below the engine's accuracy (1e-7° is 0.00036"), and short
// decimals let bodiesJson() format numbers with integer arithmetic: JSON.stringify's shortest-double
// conversion was the largest single cost of a 1000-location tick.

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

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12] as const;

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

const q = (s: string | null): string => (s === null ? 'null' : '"' + s + '"');

// Magnitude and phase are the same for every location of a tick: keep the last string per body.
const lastMag = new Map<string, [number, string]>();
const lastPhase = new Map<string, [number, string]>();

function memo(cache: Map<string, [number, string]>, key: string, x: number, decimals: number): string {
  const hit = cache.get(key);
  if (hit !== undefined && hit[0] === x) return hit[1];
  const s = formatRounded(x, decimals);
  cache.set(key, [x, s]);
  return s;
}

/**
 * JSON.stringify(bodies), byte for byte, for positions from computeBody/computeAll/the grid (numbers
 * rounded to DECIMALS, strings that need no escaping: body names, IAU abbreviations, ISO times).
 */
export function bodiesJson(bodies: readonly BodyPosition[]): string {
  let out = '[';
  for (let i = 0; i < bodies.length; i++) {
    const b = bodies[i]!;
    if (i > 0) out += ',';
    out +=
      '{"name":"' + b.name +
      '","az":' + formatRounded(b.az, DECIMALS.az) +
      ',"alt":' + formatRounded(b.alt, DECIMALS.alt) +
      ',"ra":' + formatRounded(b.ra, DECIMALS.ra) +
      ',"dec":' + formatRounded(b.dec, DECIMALS.dec) +
      ',"distance":' + formatRounded(b.distance, DECIMALS.distance) +
      ',"magnitude":' + memo(lastMag, b.name, b.magnitude, DECIMALS.magnitude) +
      ',"phase":' + memo(lastPhase, b.name, b.phase, DECIMALS.phase) +
      ',"constellation":"' + b.constellation +
      '","aboveHorizon":' + b.aboveHorizon +
      ',"rise":' + q(b.rise) +
      ',"transit":' + q(b.transit) +
      ',"set":' + q(b.set) +
      '}';
  }
  return out + ']';
}
