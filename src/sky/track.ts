import { AstroTime, type Body, GeoVector, Illumination, Rotation_EQJ_EQD, SiderealTime } from 'astronomy-engine';
import { earthRotationDeg } from './astronomy-mirror.ts';

// The observer-independent half of the sky, sampled once and interpolated.
//
// Everything astronomy-engine computes before it looks at an observer — the body's apparent geocentric
// vector (light time and aberration included), its rotation to the true equator of date, the part of
// Greenwich apparent sidereal time that is not the Earth's uniform spin, and the illumination geometry —
// is a smooth function of time. We evaluate it exactly at knots every KNOT_DAYS and interpolate with a
// 6-point Lagrange polynomial: the error is below 1e-4 arcsecond even for the Moon (measured against
// astronomy-engine, see test/unit/sky/track.test.ts), i.e. far below the 1 arcsecond we promise.
//
// Knots live in a bounded per-body cache; a Span is a contiguous copy of the knots a request needs
// (from just before the instant to SPAN_DAYS after, enough for the rise/set/transit searches), so the
// hot loops index a Float64Array instead of a Map.

export const J2000_MS = Date.UTC(2000, 0, 1, 12);
export const MS_PER_DAY = 86_400_000;
export const DEG = Math.PI / 180;
export const RAD2DEG = 180 / Math.PI;
export const RAD2HOUR = 12 / Math.PI;

/** Knot spacing in days (4 hours). */
export const KNOT_DAYS = 4 / 24;
/** A span reaches this far past its instant: the rise/set windows end 1.26 days after the start. */
export const SPAN_DAYS = 1.35;
/** Knots kept before the instant's own interval (2 for the stencil + 1 for searches that step back). */
const KNOTS_BEFORE = 3;
const SPAN_KNOTS = KNOTS_BEFORE + Math.ceil(SPAN_DAYS / KNOT_DAYS) + 4;
/** Per span knot: apparent geocentric vector of date (AU) and the smooth part of GAST (degrees). */
export const SPAN_STRIDE = 4;

const MAX_KNOTS_PER_BODY = 1024;
const MAX_SPANS_PER_BODY = 32;

/** One exactly computed sample of a body's observer-independent state. */
export class Knot {
  /** [0..2] apparent geocentric vector, true equator of date; [3] GAST − ERA (deg); [4..6] same vector, J2000 (EQJ); [7..15] EQJ→EQD matrix, row-major. */
  readonly v = new Float64Array(16);
  /** [0..2] geometric geocentric vector, [3..5] heliocentric vector (both EQJ, as Illumination uses them), [6] Saturn ring tilt (deg). Lazily filled. */
  illum: Float64Array | null = null;

  constructor(
    readonly body: Body,
    readonly ut: number,
  ) {
    const time = new AstroTime(ut);
    const j = GeoVector(body, time, true);
    const rot = Rotation_EQJ_EQD(time).rot;
    const v = this.v;
    // astronomy-engine applies rot column-wise (RotateVector): out[i] = Σ_k rot[k][i] · in[k].
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 3; k++) v[7 + 3 * i + k] = rot[k]![i]!;
    }
    v[4] = j.x;
    v[5] = j.y;
    v[6] = j.z;
    v[0] = v[7]! * j.x + v[8]! * j.y + v[9]! * j.z;
    v[1] = v[10]! * j.x + v[11]! * j.y + v[12]! * j.z;
    v[2] = v[13]! * j.x + v[14]! * j.y + v[15]! * j.z;
    let s = 15 * SiderealTime(time) - earthRotationDeg(ut);
    s -= 360 * Math.round(s / 360);
    v[3] = s;
  }

  illumination(): Float64Array {
    if (this.illum) return this.illum;
    const info = Illumination(this.body, new AstroTime(this.ut));
    const out = new Float64Array(7);
    out[0] = info.gc.x;
    out[1] = info.gc.y;
    out[2] = info.gc.z;
    out[3] = info.hc.x;
    out[4] = info.hc.y;
    out[5] = info.hc.z;
    out[6] = info.ring_tilt ?? 0;
    this.illum = out;
    return out;
  }
}

export interface Span {
  readonly body: Body;
  /** Earth rotation angle at ut0 (deg); ERA is linear in UT, so ERA(ut) = era0 + ERA_RATE · (ut − ut0) (mod 360). */
  readonly era0: number;
  /** index of the first knot (knot k is at ut = k · KNOT_DAYS) */
  readonly k0: number;
  readonly ut0: number;
  readonly n: number;
  /** n × SPAN_STRIDE */
  readonly data: Float64Array;
  readonly knots: readonly Knot[];
}

class BodyTrack {
  private readonly knots = new Map<number, Knot>();
  private readonly spans = new Map<number, Span>();
  private last: Span | null = null;

  constructor(private readonly body: Body) {}

  knot(k: number): Knot {
    let kn = this.knots.get(k);
    if (kn) {
      // Refresh recency (only reached while building a span, so the churn is cheap).
      this.knots.delete(k);
      this.knots.set(k, kn);
      return kn;
    }
    kn = new Knot(this.body, k * KNOT_DAYS);
    this.knots.set(k, kn);
    if (this.knots.size > MAX_KNOTS_PER_BODY) this.knots.delete(this.knots.keys().next().value!);
    return kn;
  }

  span(ut: number): Span {
    const k0 = Math.floor(ut / KNOT_DAYS) - KNOTS_BEFORE;
    const last = this.last;
    if (last !== null && last.k0 === k0) return last;
    let sp = this.spans.get(k0);
    if (sp === undefined) {
      const knots: Knot[] = [];
      const data = new Float64Array(SPAN_KNOTS * SPAN_STRIDE);
      for (let i = 0; i < SPAN_KNOTS; i++) {
        const kn = this.knot(k0 + i);
        knots.push(kn);
        data.set(kn.v.subarray(0, SPAN_STRIDE), i * SPAN_STRIDE);
      }
      const ut0 = k0 * KNOT_DAYS;
      sp = { body: this.body, era0: earthRotationDeg(ut0), k0, ut0, n: SPAN_KNOTS, data, knots };
      this.spans.set(k0, sp);
      if (this.spans.size > MAX_SPANS_PER_BODY) this.spans.delete(this.spans.keys().next().value!);
    }
    this.last = sp;
    return sp;
  }

  clear(): void {
    this.knots.clear();
    this.spans.clear();
    this.last = null;
  }

  get size(): { knots: number; spans: number } {
    return { knots: this.knots.size, spans: this.spans.size };
  }
}

const TRACKS = new Map<Body, BodyTrack>();

function track(body: Body): BodyTrack {
  let t = TRACKS.get(body);
  if (!t) {
    t = new BodyTrack(body);
    TRACKS.set(body, t);
  }
  return t;
}

/** The span whose knots cover [ut − a knot, ut + SPAN_DAYS] for this body. */
export function spanFor(body: Body, ut: number): Span {
  return track(body).span(ut);
}

/** For tests and benchmarks: drop every cached knot and span. */
export function clearTrackCaches(): void {
  for (const t of TRACKS.values()) t.clear();
}

/** For tests: how much is cached, per body. */
export function trackCacheSizes(): Map<Body, { knots: number; spans: number }> {
  return new Map([...TRACKS].map(([b, t]) => [b, t.size]));
}

// ---- interpolation -------------------------------------------------------------------------------

/** Weights of the 6-point Lagrange stencil on nodes −2..3 for u ∈ [0, 1), written into w. */
export function lagrangeWeights(u: number, w: Float64Array): void {
  const a = u + 2;
  const b = u + 1;
  const c = u;
  const d = u - 1;
  const e = u - 2;
  const f = u - 3;
  const ab = a * b;
  const abc = ab * c;
  const abcd = abc * d;
  const ef = e * f;
  const def = d * ef;
  const cdef = c * def;
  w[0] = b * cdef * (-1 / 120);
  w[1] = a * cdef * (1 / 24);
  w[2] = ab * def * (-1 / 12);
  w[3] = abc * ef * (1 / 12);
  w[4] = abcd * f * (-1 / 24);
  w[5] = abcd * e * (1 / 120);
}

/**
 * Locates ut in the span: returns the index of the stencil's first knot and fills w.
 * Throws if the span does not cover ut (a bug: spans are sized for every search we run).
 */
export function stencil(span: Span, ut: number, w: Float64Array): number {
  const x = (ut - span.ut0) / KNOT_DAYS;
  const i = Math.floor(x);
  if (!(i >= 2 && i + 3 < span.n)) {
    throw new Error(`sky: instant ${ut} outside the interpolation span starting at ${span.ut0}`);
  }
  lagrangeWeights(x - i, w);
  return i - 2;
}
