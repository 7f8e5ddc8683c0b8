import { AstroTime, Constellation, Rotation_EQJ_EQD } from 'astronomy-engine';
import { describe, expect, it } from 'vitest';
import { ConstellationLookup, clearConstellationCache } from '../../../src/sky/constellation.ts';
import { rng } from './helpers.ts';

const lookup = new ConstellationLookup();
const constellationOf = (x: number, y: number, z: number): string => lookup.of(x, y, z);
const constellationWithin = (x: number, y: number, z: number, radius: number): string | null => lookup.within(x, y, z, radius);

// The cell-cached lookup must give exactly what astronomy-engine's Constellation() gives.

const D = Math.PI / 180;

function reference(x: number, y: number, z: number): string {
  let lon = Math.atan2(y, x) / D;
  if (lon < 0) lon += 360;
  return Constellation(lon / 15, Math.atan2(z, Math.hypot(x, y)) / D).symbol;
}

function fromRaDec(raHours: number, decDeg: number): [number, number, number] {
  const c = Math.cos(decDeg * D);
  return [c * Math.cos(raHours * 15 * D), c * Math.sin(raHours * 15 * D), Math.sin(decDeg * D)];
}

describe('constellationOf', () => {
  it('equals Constellation() for random directions, including repeat lookups in cached cells', () => {
    clearConstellationCache();
    const r = rng(1875);
    const seen = new Set<string>();
    for (let i = 0; i < 16_000; i++) {
      // Half uniform on the sphere, half clustered (many hits in the same cells, as the grid does).
      const v =
        i % 2 === 0
          ? fromRaDec(24 * r(), (Math.asin(2 * r() - 1) * 180) / Math.PI)
          : fromRaDec(5.5 + 0.05 * r(), -5 + 0.5 * r());
      const scale = 0.001 + 40 * r();
      const got = constellationOf(v[0] * scale, v[1] * scale, v[2] * scale);
      expect(got).toBe(reference(v[0], v[1], v[2]));
      seen.add(got);
    }
    expect(seen.size).toBe(88);
  });

  it('equals Constellation() on and right beside the B1875 lattice lines where boundaries lie', () => {
    const rot = Rotation_EQJ_EQD(new AstroTime(-45655.74141261017)).rot;
    // B1875 → J2000 is the transpose of what RotateVector applies.
    const toJ2000 = (b: [number, number, number]): [number, number, number] => [
      rot[0]![0]! * b[0] + rot[0]![1]! * b[1] + rot[0]![2]! * b[2],
      rot[1]![0]! * b[0] + rot[1]![1]! * b[1] + rot[1]![2]! * b[2],
      rot[2]![0]! * b[0] + rot[2]![1]! * b[1] + rot[2]![2]! * b[2],
    ];
    const r = rng(42);
    let thrown = 0;
    for (let i = 0; i < 10_000; i++) {
      const raCell = Math.floor(r() * 8640);
      const decCell = 1 + Math.floor(r() * 4318);
      const eps = [0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-6, -1e-6][i % 7]!;
      const onRaLine = i % 2 === 0;
      const ra = (raCell + (onRaLine ? eps : r())) / 360;
      const dec = (decCell + (onRaLine ? r() : eps)) / 24 - 90;
      const v = toJ2000(fromRaDec(ra, dec));
      let want: string;
      try {
        want = reference(v[0], v[1], v[2]);
      } catch {
        // Constellation() itself throws when its B1875 RA rounds to exactly 24 h; we answer anyway.
        thrown++;
        expect(constellationOf(v[0], v[1], v[2])).toMatch(/^[A-Z][a-z]{2}$/);
        continue;
      }
      expect(constellationOf(v[0], v[1], v[2])).toBe(want);
    }
    expect(thrown).toBeLessThan(100);
  });

  it('handles the celestial poles', () => {
    expect(constellationOf(0, 0, 1)).toBe(reference(0, 0, 1));
    expect(constellationOf(0, 0, -1)).toBe(reference(0, 0, -1));
    expect(constellationOf(0, 0, 1)).toBe('UMi');
    expect(constellationOf(0, 0, -1)).toBe('Oct');
  });
});

describe('constellationWithin', () => {
  it('answers only when every direction within the parallax cap is in the same constellation', () => {
    const r = rng(8);
    let answered = 0;
    for (let i = 0; i < 3000; i++) {
      const ra = 24 * r();
      const dec = (Math.asin(2 * r() - 1) * 180) / Math.PI;
      const dist = [0.0025, 0.3, 1, 30][i % 4]!;
      const radius = 4.3e-5; // the Earth's radius plus 100 km, in AU
      const c = fromRaDec(ra, dec).map((v) => v * dist) as [number, number, number];
      const got = constellationWithin(c[0], c[1], c[2], radius);
      if (got === null) continue;
      answered++;
      expect(got).toBe(reference(c[0], c[1], c[2]));
      // Observers on the cap's rim, in random directions.
      for (let k = 0; k < 8; k++) {
        const o = fromRaDec(24 * r(), (Math.asin(2 * r() - 1) * 180) / Math.PI).map((v) => v * radius);
        expect(constellationOf(c[0] - o[0]!, c[1] - o[1]!, c[2] - o[2]!)).toBe(got);
      }
    }
    // Planets are far enough that it almost always answers; the Moon (1° of parallax) never does.
    expect(answered).toBeGreaterThan(1200);
    expect(constellationWithin(0.0025, 0, 0, 4.3e-5)).toBeNull();
  });
});
