import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SKY_DATA, buildSkyData } from '../../../scripts/sky-data.ts';

// The chart's stars and constellations come from d3-celestial's data files: the committed asset is exactly what the
// script makes of the installed package, and holds what the chart promises (stars to magnitude 5, the 88 figures).

describe('web/data/sky.json', () => {
  it('is what scripts/sky-data.ts builds from the package', () => {
    expect(readFileSync(SKY_DATA, 'utf8')).toBe(buildSkyData());
  });

  it('holds the stars to magnitude 5 and the constellations, with known stars where catalogues put them', () => {
    const sky = JSON.parse(readFileSync(SKY_DATA, 'utf8')) as { stars: number[]; lines: Record<string, number[][]>; names: [string, string, number, number][]; bright: [string, number, number, number][] };
    const mags = sky.stars.filter((_, i) => i % 3 === 2);
    expect(mags.length).toBeGreaterThan(1500);
    expect(Math.max(...mags)).toBeLessThanOrEqual(50);
    expect(Math.min(...mags)).toBeLessThan(-10); // Sirius, −1.46
    expect(new Set(sky.names.map((n) => n[0])).size).toBeGreaterThanOrEqual(88);
    expect(Object.keys(sky.lines)).toContain('Ori');
    // Sirius: RA 06h 45m 08.9s = 101.29°, Dec −16° 42′ 58″ (J2000, SIMBAD); Vega: 279.23°, +38.78°.
    const sirius = sky.bright.find((b) => b[0] === 'Sirius')!;
    expect(sirius[1] / 10).toBeCloseTo(101.3, 0);
    expect(sirius[2] / 10).toBeCloseTo(-16.7, 0);
    const vega = sky.bright.find((b) => b[0] === 'Vega')!;
    expect(vega[1] / 10).toBeCloseTo(279.2, 0);
    expect(vega[2] / 10).toBeCloseTo(38.8, 0);
  });
});
