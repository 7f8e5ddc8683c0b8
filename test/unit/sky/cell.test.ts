import { describe, expect, it } from 'vitest';
import { CELL_DEGREES, CELL_ELEVATION_M, cellLocation, cellOf, nauticalZone } from '../../../src/sky/cell.ts';
import { computeAll } from '../../../src/sky/fast-path.ts';
import type { Observer } from '../../../src/sky/types.ts';
import { rng, separationArcsec } from './helpers.ts';

// What snapping a spot to its cell costs in azimuth and altitude: the same instant computed for the exact observer and
// for its cell (GET /planets' own path, refraction included), over many spots and instants, every body (the Moon has
// the most parallax), high latitudes and the poles included, spots placed anywhere in their cell up to its corners.

const HALF = CELL_DEGREES / 2;
/** Within this of the zenith azimuth is ill-conditioned (any step of the observer swings it); see docs/exact-spot.md. */
const ZENITH_CAP_DEG = 0.5;

const wrap180 = (d: number): number => ((((d + 180) % 360) + 360) % 360) - 180;

describe('cellOf', () => {
  it('snaps to the nearest 1e-4° and 10 m; four-decimal coordinates are their own cell', () => {
    expect(cellOf({ lat: -23.7, lon: 133.88, elevation: 545 })).toEqual({ id: '-23.7000,133.8800,550', lat: -23.7, lon: 133.88, elevation: 550 });
    expect(cellOf({ lat: 51.47694, lon: -0.00049, elevation: 4 })).toEqual({ id: '51.4769,-0.0005,0', lat: 51.4769, lon: -0.0005, elevation: 0 });
    // One meridian, one cell; no negative zero.
    expect(cellOf({ lat: 0, lon: 180, elevation: 0 }).id).toBe(cellOf({ lat: -0.00001, lon: -179.99999, elevation: -4 }).id);
    expect(cellOf({ lat: 90, lon: 0, elevation: 0 }).id).toBe('90.0000,0.0000,0');
    const r = rng(7);
    for (let i = 0; i < 1000; i++) {
      const o = { lat: 180 * r() - 90, lon: 360 * r() - 180, elevation: 9000 * r() - 400 };
      const c = cellOf(o);
      expect(Math.abs(c.lat - o.lat)).toBeLessThanOrEqual(HALF + 1e-12);
      expect(Math.abs(wrap180(c.lon - o.lon))).toBeLessThanOrEqual(HALF + 1e-12);
      expect(Math.abs(c.elevation - o.elevation)).toBeLessThanOrEqual(CELL_ELEVATION_M / 2);
      expect(cellOf(c)).toEqual(c);
      expect(c.lat).toBe(Number(c.id.split(',')[0]));
    }
  });

  it('names the cell and gives it a time zone', () => {
    const alice = cellLocation(cellOf({ lat: -23.7, lon: 133.88, elevation: 0 }));
    expect(alice.name).toBe('23.7000° S, 133.8800° E');
    expect(() => new Intl.DateTimeFormat('en', { timeZone: alice.timezone })).not.toThrow();
    const pacific = cellLocation(cellOf({ lat: 0, lon: -150, elevation: 0 }));
    expect(pacific.timezone).toBe('Etc/GMT+10');
    expect(nauticalZone(0)).toBe('Etc/UTC');
    expect(nauticalZone(135)).toBe('Etc/GMT-9');
    for (let lon = -180; lon <= 180; lon += 7.5) expect(() => new Intl.DateTimeFormat('en', { timeZone: nauticalZone(lon) })).not.toThrow();
  });
});

describe('the error snapping causes', () => {
  it('stays under 0.01° in altitude and azimuth (azimuth: away from the zenith cap) for every body, high latitudes included', () => {
    const r = rng(20261203);
    let maxAlt = 0;
    let maxAz = 0;
    let maxAzOnSky = 0;
    let maxSep = 0;
    let moonMaxAlt = 0;
    let highLatMaxAz = 0;
    let samples = 0;
    // 40 instants 1950–2080, 60 spots each (warm knots per instant keep this quick).
    for (let k = 0; k < 40; k++) {
      const time = new Date(Date.UTC(1950, 0, 1) + r() * 130 * 365.25 * 86_400_000);
      for (let i = 0; i < 60; i++) {
        const polar = i < 20;
        const cell = {
          lat: polar ? (r() < 0.5 ? 1 : -1) * (66 + 24 * r()) : (Math.asin(2 * r() - 1) * 180) / Math.PI,
          lon: 360 * r() - 180,
        };
        // The spot anywhere in its cell, a third of them at a corner (the farthest a spot can be).
        const corner = i % 3 === 0;
        const dLat = corner ? (r() < 0.5 ? 1 : -1) * HALF * 0.999 : (2 * r() - 1) * HALF;
        const dLon = corner ? (r() < 0.5 ? 1 : -1) * HALF * 0.999 : (2 * r() - 1) * HALF;
        const exact: Observer = {
          lat: Math.max(-90, Math.min(90, cell.lat + dLat)),
          lon: Math.max(-180, Math.min(180, cell.lon + dLon)),
          elevation: Math.round(4000 * r()),
        };
        const c = cellOf(exact);
        const a = computeAll(exact, time);
        const b = computeAll(c, time);
        for (let j = 0; j < a.length; j++) {
          const p = a[j]!;
          const q = b[j]!;
          samples++;
          const dAlt = Math.abs(p.alt - q.alt);
          const dAz = Math.abs(wrap180(p.az - q.az));
          const sep = separationArcsec(p.az, p.alt, q.az, q.alt) / 3600;
          maxAlt = Math.max(maxAlt, dAlt);
          maxSep = Math.max(maxSep, sep);
          maxAzOnSky = Math.max(maxAzOnSky, dAz * Math.cos((p.alt * Math.PI) / 180));
          if (p.name === 'moon') moonMaxAlt = Math.max(moonMaxAlt, dAlt, sep);
          if (90 - Math.abs(p.alt) > ZENITH_CAP_DEG) {
            maxAz = Math.max(maxAz, dAz);
            if (polar) highLatMaxAz = Math.max(highLatMaxAz, dAz);
          }
        }
      }
    }
    console.log(
      `cell ${CELL_DEGREES}°: ${samples} body samples; max |Δalt| ${maxAlt.toExponential(2)}°, max |Δaz| ${maxAz.toExponential(2)}° ` +
        `(outside ${ZENITH_CAP_DEG}° of the zenith; ${highLatMaxAz.toExponential(2)}° at |lat| ≥ 66°), max |Δaz|·cos(alt) ` +
        `${maxAzOnSky.toExponential(2)}°, max separation ${maxSep.toExponential(2)}°, Moon ${moonMaxAlt.toExponential(2)}°`,
    );
    expect(samples).toBe(24_000);
    expect(maxAlt).toBeLessThan(0.01);
    expect(maxAz).toBeLessThan(0.01);
    expect(maxAzOnSky).toBeLessThan(0.01);
    expect(maxSep).toBeLessThan(0.01);
    // The test can fail: a cell ten times coarser than the promise breaks it for some sample.
    expect(maxAlt).toBeGreaterThan(0);
  });

  it('would fail with a cell of 0.02°: the test is able to see the error', () => {
    const time = new Date('2026-12-03T10:00:00Z');
    const exact = { lat: 60.01, lon: 10.01, elevation: 0 };
    const coarse = { lat: 60, lon: 10, elevation: 0 };
    const a = computeAll(exact, time);
    const b = computeAll(coarse, time);
    const worst = Math.max(...a.map((p, j) => Math.max(Math.abs(p.alt - b[j]!.alt), Math.abs(wrap180(p.az - b[j]!.az)))));
    expect(worst).toBeGreaterThan(0.01);
  });
});
