import { Equator, Horizon, MakeTime, Observer as EngineObserver } from 'astronomy-engine';
import { describe, expect, it } from 'vitest';
import { createSkyGrid } from '../../../src/sky/grid.ts';
import { ENGINE_BODY } from '../../../src/sky/bodies.ts';
import { computeBody } from '../../../src/sky/fast-path.ts';
import { LOCATIONS } from '../../../src/sky/locations.ts';
import { BODY_NAMES, type Location } from '../../../src/sky/types.ts';
import { diff, rng, separationArcsec } from './helpers.ts';

const T_MIN = Date.UTC(1900, 0, 1);
const T_MAX = Date.UTC(2100, 11, 31);

function randomLocations(r: () => number, n: number): Location[] {
  const out: Location[] = [];
  for (let i = 0; i < n; i++) {
    const lat = i === 0 ? 90 : i === 1 ? -90 : i === 2 ? 0 : i < 6 ? (i % 2 ? 1 : -1) * (80 + 10 * r()) : (Math.asin(2 * r() - 1) * 180) / Math.PI;
    out.push({
      id: `p${i}`,
      name: `Point ${i}`,
      country: 'AQ',
      lat,
      lon: i === 3 ? 180 : i === 4 ? -180 : 360 * r() - 180,
      elevation: i % 3 === 0 ? 5000 : Math.round(3000 * r()),
      timezone: 'UTC',
    });
  }
  return out;
}

describe('grid path (createSkyGrid)', () => {
  it('agrees with astronomy-engine Equator(ofdate, aberration) + Horizon(normal) within 1" for every body, 1900–2100', () => {
    const r = rng(31337);
    const locations = randomLocations(r, 30);
    const grid = createSkyGrid(locations);
    let worst = 0;
    for (let k = 0; k < 6; k++) {
      const time = new Date(Math.round(T_MIN + r() * (T_MAX - T_MIN)));
      const skies = grid.compute(time);
      expect(skies.map((s) => s.location)).toEqual(locations);
      for (const sky of skies) {
        const obs = new EngineObserver(sky.location.lat, sky.location.lon, sky.location.elevation);
        expect(sky.bodies.map((b) => b.name)).toEqual([...BODY_NAMES]);
        for (const b of sky.bodies) {
          const t = MakeTime(time);
          const eq = Equator(ENGINE_BODY[b.name], t, obs, true, true);
          const hor = Horizon(t, obs, eq.ra, eq.dec, 'normal');
          const label = `${b.name} at ${JSON.stringify(sky.location)} ${time.toISOString()}`;
          const dh = separationArcsec(b.az, b.alt, hor.azimuth, hor.altitude);
          const de = separationArcsec(b.ra * 15, b.dec, eq.ra * 15, eq.dec);
          worst = Math.max(worst, dh, de);
          expect(dh, label).toBeLessThan(1);
          expect(Math.abs(b.alt - hor.altitude) * 3600, label).toBeLessThan(1);
          expect(de, label).toBeLessThan(1);
          expect(Math.abs(b.distance / eq.dist - 1), label).toBeLessThan(1e-8);
          expect(b.aboveHorizon).toBe(hor.altitude > 0);
        }
      }
    }
    expect(worst).toBeGreaterThan(0); // compared something real
  });

  it('the stream and the route agree: grid values equal computeBody for the same location and instant, tick after tick', () => {
    // Entries living 2 minutes, so five minutes of ticks go through every kind of re-search.
    const grid = createSkyGrid(LOCATIONS, { eventMaxAgeMinutes: 2 });
    const start = Date.UTC(2026, 5, 21, 3, 0, 0); // June solstice: polar day and night in the grid
    // Three-second ticks for longer than an event entry lives, then jumps, then time going backwards.
    const offsetsS = [
      ...Array.from({ length: 101 }, (_, i) => 3 * i),
      3_600, 3_601, 50_000, 86_399, 86_400 * 3 + 17, 1_000, 999, 0,
    ];
    const checkAt = new Set([0, 3, 6, 60, 120, 123, 240, 243, 300, 3_600, 3_601, 50_000, 86_399, 86_400 * 3 + 17, 1_000, 999]);
    // Plain checks collected into one assertion: per-value expect() over ~10^6 values is far too slow.
    const failures: string[] = [];
    const fail = (msg: string): void => {
      if (failures.length < 20) failures.push(msg);
    };
    let compared = 0;
    let changedRises = 0;
    let prev: Map<string, string | null> | undefined;
    for (const [i, s] of offsetsS.entries()) {
      const time = new Date(start + s * 1000);
      const ms = time.getTime();
      const skies = grid.compute(time);
      const now = new Map<string, string | null>();
      for (const sky of skies) {
        for (const b of sky.bodies) {
          now.set(`${sky.location.id}/${b.name}`, b.rise);
          // Never an event at or before the instant, nor more than a day after it.
          for (const k of ['rise', 'set', 'transit'] as const) {
            const v = b[k];
            if (v !== null && !(Date.parse(v) > ms && Date.parse(v) - ms <= 86_400_000)) {
              fail(`${k} ${v} of ${b.name} at ${sky.location.id} is not within a day after ${time.toISOString()}`);
            }
          }
        }
      }
      if (prev && i <= 100) for (const [key, v] of now) if (prev.get(key) !== v) changedRises++;
      prev = now;
      // The grid's cached serialiser against JSON.stringify, every tick (events and horizons change).
      for (const [li, sky] of skies.entries()) {
        if (grid.bodiesJson(li) !== JSON.stringify(sky.bodies)) fail(`bodiesJson(${li}) differs at ${time.toISOString()}`);
      }
      if (!checkAt.has(s) || (s === 0 && i > 0)) continue;
      for (const sky of skies) {
        for (const b of sky.bodies) {
          const ref = computeBody(b.name, sky.location, time);
          const label = `${b.name} at ${sky.location.id} ${time.toISOString()}`;
          const d = diff(b, ref);
          if (!(d.horizon < 1 && d.equator < 1)) fail(`position ${label}: ${d.horizon}" / ${d.equator}"`);
          if (Math.abs(b.magnitude - ref.magnitude) > 1e-9 || Math.abs(b.phase - ref.phase) > 1e-9) fail(`brightness ${label}`);
          if (b.constellation !== ref.constellation) fail(`constellation ${label}`);
          if (b.aboveHorizon !== ref.aboveHorizon) fail(`aboveHorizon ${label}`);
          for (const k of ['rise', 'set', 'transit'] as const) {
            const e = d.events[k];
            if (e !== null && !(e <= 0.01)) fail(`${k}: grid ${b[k]} vs computeBody ${ref[k]} for ${label}`);
          }
          compared++;
        }
      }
    }
    expect(failures).toEqual([]);
    expect(compared).toBe(LOCATIONS.length * BODY_NAMES.length * checkAt.size);
    // Over five minutes of ticks some rises happened, and the grid moved on to the next ones.
    expect(changedRises).toBeGreaterThan(0);
  });

  it('rejects an invalid instant or location instead of guessing', () => {
    expect(() => createSkyGrid(LOCATIONS.slice(0, 2)).compute(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => createSkyGrid(LOCATIONS.slice(0, 2)).compute(new Date('1850-01-01T00:00:00Z'))).toThrow(RangeError);
    const bad = { ...LOCATIONS[0]!, lat: 123 };
    expect(() => createSkyGrid([bad])).toThrow(RangeError);
    expect(() => createSkyGrid(LOCATIONS, { eventMaxAgeMinutes: 0 })).toThrow(RangeError);
    expect(() => createSkyGrid(LOCATIONS, { eventMaxAgeMinutes: 361 })).toThrow(RangeError);
  });
});
