import { BODY_NAMES, ENGINE_BODY } from './bodies.ts';
import type { ConstellationLookup } from './constellation.ts';
import { checkTime, utOf, type PositionCalculator } from './fast-path.ts';
import { isoString } from './isotime.ts';
import type { Brightness } from './magnitude.ts';
import { GeocentricLayout as Geo, geocentricAt } from './topocentric.ts';
import { spanFor } from './track.ts';

// The observer-independent half of one tick: per body its apparent geocentric vector of date, sidereal time (as the
// cosine and sine of GAST the rotation uses), its J2000 vector and its brightness; and the J2000 ↔ equator-of-date
// matrix that carries an observer back to J2000 for the constellation. The worker computes it once per tick and
// publishes it; every API node turns it into az/alt (and the rest) for the cells its clients watch (spot-sky.ts).
//
// Every number travels as JSON, which writes a double's shortest round-trip form: the node gets the worker's doubles
// bit for bit, so a cell computed from a frame equals GET /planets for the same observer and instant to the last bit.

/** Numbers per body in the encoded frame, in this order. */
const FIELDS = ['X', 'Y', 'Z', 'Cos', 'Sin', 'JX', 'JY', 'JZ'] as const;
const PER_BODY = FIELDS.length + 2; // + magnitude, phase
/** A far-enough bound on any observer's distance from the Earth's centre (AU): 6 400 km, the equator plus 20 km. */
const OBSERVER_REACH_AU = 6400 / 1.4959787069098932e8;

export interface GeoFrame {
  /** the tick instant, epoch ms */
  ms: number;
  /** per body (BODY_NAMES order): geocentricAt()'s layout (Gast unused, 0) */
  geo: readonly Float64Array[];
  bright: readonly Brightness[];
  /** the Sun's knot sample: its [7..15] is the EQJ→EQD matrix observerAt() uses */
  knot: Float64Array;
  /** per body, its constellation when every observer on Earth sees it in the same one; else null */
  shared: readonly (string | null)[];
}

function withShared(ms: number, geo: Float64Array[], bright: Brightness[], knot: Float64Array, lookup: ConstellationLookup): GeoFrame {
  const shared = geo.map((g) => lookup.within(g[Geo.JX]!, g[Geo.JY]!, g[Geo.JZ]!, OBSERVER_REACH_AU));
  return { ms, geo, bright, knot, shared };
}

/** The frame of one instant (what the worker publishes each tick), with the caller's calculator. */
export function computeGeoFrame(time: Date, calc: PositionCalculator): GeoFrame {
  const ms = checkTime(time);
  const ut = utOf(ms);
  const geo: Float64Array[] = [];
  const bright: Brightness[] = [];
  let knot: Float64Array | undefined;
  for (const name of BODY_NAMES) {
    const body = ENGINE_BODY[name];
    const span = spanFor(body, ut);
    const g = new Float64Array(Geo.Size);
    const k = geocentricAt(span, ut, g, calc.scratch);
    knot ??= k;
    geo.push(g);
    bright.push(calc.brightnessAt(body, span, ut));
  }
  return withShared(ms, geo, bright, knot!.slice(), calc.constellations);
}

/**
 * One line of JSON: `{"time":…,"frame":{"m":[9 numbers],"bodies":[[X,Y,Z,cos,sin,JX,JY,JZ,magnitude,phase],…]},
 * "publishedAt":…}`. `time` first, as in a snapshot, so the broker reads its id the same way.
 */
export function encodeGeoFrame(f: GeoFrame, publishedAt: number): string {
  const rows = f.geo.map((g, b) => {
    const row: number[] = FIELDS.map((k) => g[Geo[k]]!);
    row.push(f.bright[b]!.magnitude, f.bright[b]!.phase);
    return row;
  });
  const m = Array.from(f.knot.subarray(7, 16));
  return `{"time":"${isoString(f.ms)}","frame":${JSON.stringify({ m, bodies: rows })},"publishedAt":${publishedAt}}`;
}

export interface DecodedFrame {
  frame: GeoFrame;
  publishedAt: number;
}

const isNumberRow = (v: unknown, n: number): v is number[] =>
  Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** encodeGeoFrame() reversed (`lookup` finds the shared constellations); undefined for anything that is not a whole frame. */
export function decodeGeoFrame(json: string, lookup: ConstellationLookup): DecodedFrame | undefined {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  const o = v as { time?: unknown; frame?: { m?: unknown; bodies?: unknown }; publishedAt?: unknown } | null;
  if (typeof o !== 'object' || o === null || typeof o.time !== 'string' || typeof o.frame !== 'object' || o.frame === null) return undefined;
  const ms = Date.parse(o.time);
  const { m, bodies } = o.frame;
  if (!Number.isFinite(ms) || !isNumberRow(m, 9) || !Array.isArray(bodies) || bodies.length !== BODY_NAMES.length) return undefined;
  const geo: Float64Array[] = [];
  const bright: Brightness[] = [];
  for (const row of bodies) {
    if (!isNumberRow(row, PER_BODY)) return undefined;
    const g = new Float64Array(Geo.Size);
    FIELDS.forEach((k, i) => {
      g[Geo[k]] = row[i]!;
    });
    geo.push(g);
    bright.push({ magnitude: row[FIELDS.length]!, phase: row[FIELDS.length + 1]! });
  }
  const knot = new Float64Array(16);
  knot.set(m, 7);
  const publishedAt = typeof o.publishedAt === 'number' ? o.publishedAt : ms;
  return { frame: withShared(ms, geo, bright, knot, lookup), publishedAt };
}
