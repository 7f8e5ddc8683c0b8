import { AstroTime, GeoVector, Illumination, RotateVector, Rotation_EQJ_EQD, SiderealTime } from 'astronomy-engine';
import { describe, expect, it } from 'vitest';
import { ENGINE_BODY } from '../../../src/sky/bodies.ts';
import { ERA_RATE, earthRotationDeg } from '../../../src/sky/astronomy-mirror.ts';
import { illuminationAt, newTopoScratch } from '../../../src/sky/topocentric.ts';
import {
  KNOT_DAYS,
  SPAN_DAYS,
  SPAN_STRIDE,
  clearTrackCaches,
  spanFor,
  stencil,
  trackCacheSizes,
} from '../../../src/sky/track.ts';
import { BODY_NAMES } from '../../../src/sky/types.ts';
import { rng } from './helpers.ts';

// The interpolated observer-independent track against astronomy-engine evaluated exactly.

const T_MIN = (Date.UTC(1900, 0, 1) - Date.UTC(2000, 0, 1, 12)) / 86_400_000;
const T_MAX = (Date.UTC(2100, 11, 31) - Date.UTC(2000, 0, 1, 12)) / 86_400_000;

function angleArcsec(a: number[], b: number[]): number {
  const cx = a[1]! * b[2]! - a[2]! * b[1]!;
  const cy = a[2]! * b[0]! - a[0]! * b[2]!;
  const cz = a[0]! * b[1]! - a[1]! * b[0]!;
  const dot = a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
  return (Math.atan2(Math.hypot(cx, cy, cz), dot) * 180 * 3600) / Math.PI;
}

describe('interpolated geocentric track', () => {
  it('matches the exact apparent vector of date and GAST for every body, 1900–2100, to 0.001"', () => {
    const r = rng(99);
    const w = new Float64Array(6);
    for (const name of BODY_NAMES) {
      const body = ENGINE_BODY[name];
      let worst = 0;
      for (let i = 0; i < 30; i++) {
        const ut = T_MIN + r() * (T_MAX - T_MIN);
        // Anywhere in the span's reach, not only at its start.
        const at = ut + r() * SPAN_DAYS;
        const span = spanFor(body, ut);
        const i0 = stencil(span, at, w);
        const v = [0, 0, 0, 0];
        for (let m = 0; m < 6; m++) for (let c = 0; c < 4; c++) v[c]! += w[m]! * span.data[(i0 + m) * SPAN_STRIDE + c]!;
        const t = new AstroTime(at);
        const exact = RotateVector(Rotation_EQJ_EQD(t), GeoVector(body, t, true));
        const err = angleArcsec(v.slice(0, 3), [exact.x, exact.y, exact.z]);
        worst = Math.max(worst, err);
        expect(Math.hypot(v[0]!, v[1]!, v[2]!) / exact.Length() - 1).toBeLessThan(1e-9);
        // GAST rebuilt from the linear Earth rotation angle plus the interpolated remainder.
        const gast = (((span.era0 + ERA_RATE * (at - span.ut0) + v[3]!) % 360) + 360) % 360;
        let dg = Math.abs(gast - 15 * SiderealTime(t));
        dg = Math.min(dg, 360 - dg);
        expect(dg * 3600).toBeLessThan(1e-3);
      }
      expect(worst, name).toBeLessThan(1e-3);
    }
  });

  it('earthRotationDeg is astronomy-engine\'s ERA and ERA_RATE its slope', () => {
    for (const ut of [-36524.5, -1234.567, 0, 0.5, 9131.25, 36524.99]) {
      const a = earthRotationDeg(ut);
      const b = earthRotationDeg(ut + 0.25);
      expect(((b - a - ERA_RATE * 0.25) % 360 + 540) % 360 - 180).toBeCloseTo(0, 9);
    }
  });

  it('interpolated illumination geometry reproduces Illumination() for every body', () => {
    const r = rng(5);
    const g = new Float64Array(7);
    const scratch = newTopoScratch();
    for (const name of BODY_NAMES) {
      const body = ENGINE_BODY[name];
      for (let i = 0; i < 10; i++) {
        const ut = T_MIN + r() * (T_MAX - T_MIN);
        illuminationAt(spanFor(body, ut), ut, g, scratch);
        const exact = Illumination(body, new AstroTime(ut));
        expect(angleArcsec([g[0]!, g[1]!, g[2]!], [exact.gc.x, exact.gc.y, exact.gc.z])).toBeLessThan(1e-3);
        expect(Math.abs(Math.hypot(g[0]!, g[1]!, g[2]!) / exact.geo_dist - 1)).toBeLessThan(1e-9);
        if (name !== 'sun') expect(Math.abs(Math.hypot(g[3]!, g[4]!, g[5]!) / exact.helio_dist - 1)).toBeLessThan(1e-9);
        if (name === 'saturn') expect(Math.abs(g[6]! - exact.ring_tilt!)).toBeLessThan(1e-6);
      }
    }
  });

  it('keeps its caches bounded however scattered the requested instants are', () => {
    clearTrackCaches();
    const r = rng(3);
    const moon = ENGINE_BODY.moon;
    for (let i = 0; i < 150; i++) spanFor(moon, T_MIN + r() * (T_MAX - T_MIN));
    const size = trackCacheSizes().get(moon)!;
    expect(size.spans).toBeLessThanOrEqual(32);
    expect(size.knots).toBeLessThanOrEqual(1024);
    expect(size.knots).toBeGreaterThan(500);
    // The hot path reuses one span for every instant inside a knot interval.
    const ut = 9000.01;
    expect(spanFor(moon, ut)).toBe(spanFor(moon, ut + KNOT_DAYS * 0.9));
    clearTrackCaches();
  });

  it('refuses to extrapolate outside a span (a sizing bug would show up here, not as wrong numbers)', () => {
    const span = spanFor(ENGINE_BODY.sun, 100);
    const w = new Float64Array(6);
    expect(() => stencil(span, 100 + SPAN_DAYS + 1, w)).toThrow(/outside/);
    expect(() => stencil(span, 100 - 1, w)).toThrow(/outside/);
  });
});
