import { describe, expect, it } from 'vitest';
import { createSkyGrid } from '../../../src/sky/grid.ts';
import { computeAll } from '../../../src/sky/fast-path.ts';
import { LOCATIONS } from '../../../src/sky/locations.ts';
import { BodiesJsonWriter } from '../../../src/sky/bodies-json.ts';
import { DECIMALS, formatRounded, roundTo } from '../../../src/sky/wire-precision.ts';
import { rng } from './helpers.ts';

describe('wire precision and BodiesJsonWriter', () => {
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

  it('BodiesJsonWriter.write(bodies) is JSON.stringify(bodies), byte for byte, on computeAll and grid output', () => {
    const r = rng(23);
    const writer = new BodiesJsonWriter();
    for (let i = 0; i < 40; i++) {
      const obs = { lat: 180 * r() - 90, lon: 360 * r() - 180, elevation: Math.round(4000 * r()) };
      const time = new Date(Date.UTC(1900, 0, 1) + r() * (Date.UTC(2100, 11, 31) - Date.UTC(1900, 0, 1)));
      const bodies = computeAll(obs, time, i % 2 ? 'none' : 'normal');
      expect(writer.write(bodies, 0)).toBe(JSON.stringify(bodies));
    }
    const skies = createSkyGrid(LOCATIONS).compute(new Date('2026-12-21T18:30:00Z'));
    skies.forEach((sky, i) => expect(writer.write(sky.bodies, i)).toBe(JSON.stringify(sky.bodies)));
  });
});
