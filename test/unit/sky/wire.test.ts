import { describe, expect, it } from 'vitest';
import { createGridComputer } from '../../../src/sky/batch.ts';
import { computeAll } from '../../../src/sky/ephemeris.ts';
import { LOCATIONS } from '../../../src/sky/locations.ts';
import { DECIMALS, bodiesJson, formatRounded, roundTo } from '../../../src/sky/wire.ts';
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
});
