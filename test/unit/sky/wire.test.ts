import { describe, expect, it } from 'vitest';
import { createGridComputer } from '../../../src/sky/batch.ts';
import { computeAll } from '../../../src/sky/ephemeris.ts';
import { LOCATIONS } from '../../../src/sky/locations.ts';
import { computeBody } from '../../../src/sky/ephemeris.ts';
import { BODY_NAMES } from '../../../src/sky/types.ts';
import { DECIMALS, bodiesJson, formatRounded, planetJson, planetsJson, roundTo } from '../../../src/sky/wire.ts';
import { rng } from './helpers.ts';

describe('wire precision and bodiesJson', () => {
  it('formatRounded writes exactly what String() writes, for every precision the engine uses', () => {
    const r = rng(17);
    const specials = [0, -0, 1, -1, 359.99999995, 1e-7, -1e-7, 5e-7, 1e-6, 0.1, 23.999999996, 89.99999999, -90, 12345.678];
    for (const decimals of new Set(Object.values(DECIMALS))) {
      const values = [...specials, ...Array.from({ length: 10_000 }, (_, i) => (r() - 0.5) * 10 ** ((i % 8) - 3))];
      const bad: string[] = [];
      for (const v of values) {
        const x = roundTo(v, decimals);
        const got = formatRounded(x, decimals);
        if (got !== String(x) || Object.is(x, -0)) bad.push(`${got} for ${String(x)} (${decimals} decimals)`);
      }
      expect(bad).toEqual([]);
    }
  });

  it('bodiesJson(bodies) is JSON.stringify(bodies), byte for byte, on computeAll and grid output', () => {
    const r = rng(23);
    for (let i = 0; i < 40; i++) {
      const obs = { lat: 180 * r() - 90, lon: 360 * r() - 180, elevation: Math.round(4000 * r()) };
      const time = new Date(Date.UTC(1900, 0, 1) + r() * (Date.UTC(2100, 11, 31) - Date.UTC(1900, 0, 1)));
      const bodies = computeAll(obs, time, i % 2 ? 'none' : 'normal');
      expect(bodiesJson(bodies)).toBe(JSON.stringify(bodies));
    }
    const skies = createGridComputer(LOCATIONS).compute(new Date('2026-12-21T18:30:00Z'));
    for (const sky of skies) expect(bodiesJson(sky.bodies)).toBe(JSON.stringify(sky.bodies));
  });

  it('planetJson and planetsJson are JSON.stringify of the GET /planets/:name and GET /planets bodies, byte for byte', () => {
    const r = rng(29);
    // Observers as a query gives them: short decimals, long ones, integers, -0 turned 0, the extremes.
    const observers = [
      { lat: 51.4769, lon: -0.0005, elevation: 0 },
      { lat: -90, lon: 180, elevation: 100_000 },
      { lat: 90, lon: -180, elevation: -500 },
      { lat: 0, lon: 0, elevation: 0 },
      { lat: 1e-7, lon: -3e-9, elevation: 0.5 },
      { lat: -12.5, lon: 99.99999, elevation: 1234.5678 },
      { lat: 0.000001, lon: -0.0000015, elevation: 99_999.999999999 },
      // Every number of places from 0 to 12: the integer path up to 9, String() beyond.
      ...Array.from({ length: 39 }, (_, i) => ({
        lat: Number((180 * r() - 90).toFixed(i % 13)),
        lon: Number((360 * r() - 180).toFixed((i + 5) % 13)),
        elevation: Number((3000 * r() - 400).toFixed((i + 9) % 13)),
      })),
      ...Array.from({ length: 30 }, (_, i) => ({
        lat: i % 3 ? Number((180 * r() - 90).toFixed(4)) : 180 * r() - 90,
        lon: i % 3 ? Number((360 * r() - 180).toFixed(4)) : 360 * r() - 180,
        elevation: i % 2 ? Math.round(4000 * r()) : 4000 * r(),
      })),
    ];
    for (const [i, observer] of observers.entries()) {
      const time = new Date(Date.UTC(1900, 0, 1) + Math.floor(r() * (Date.UTC(2100, 11, 31) - Date.UTC(1900, 0, 1))));
      const refraction = i % 2 ? 'none' : 'normal';
      const iso = time.toISOString();
      const name = BODY_NAMES[i % BODY_NAMES.length]!;
      const p = computeBody(name, observer, time, refraction);
      const { name: _, ...rest } = p;
      const expected = JSON.stringify({ name: p.name, time: iso, observer, refraction, ...rest });
      expect(planetJson(p, iso, observer, refraction)).toBe(expected);
      const bodies = computeAll(observer, time, refraction);
      expect(planetsJson(iso, observer, refraction, bodies)).toBe(JSON.stringify({ time: iso, observer, refraction, bodies }));
    }
  });

  it("planetJson writes any observer's numbers as JSON.stringify does", () => {
    const r = rng(37);
    const time = new Date('2026-03-20T12:00:00Z');
    const p = computeBody('mars', { lat: 0, lon: 0, elevation: 0 }, time, 'normal');
    const { name: _, ...rest } = p;
    const iso = time.toISOString();
    const number = (i: number, scale: number): number => {
      const x = scale * (2 * r() - 1) * 10 ** -(i % 9);
      return i % 4 === 3 ? x : Number(x.toFixed(i % 14));
    };
    const bad: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const observer = { lat: number(i, 90), lon: number(i + 1, 180), elevation: number(i + 2, 100_000) };
      const got = planetJson(p, iso, observer, 'none');
      const expected = JSON.stringify({ name: p.name, time: iso, observer, refraction: 'none', ...rest });
      if (got !== expected) bad.push(JSON.stringify(observer));
    }
    expect(bad).toEqual([]);
  });
});
