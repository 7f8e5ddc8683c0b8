import { describe, expect, it } from 'vitest';
import { cellOf } from '../../../src/sky/cell.ts';
import { BodiesJsonWriter } from '../../../src/sky/bodies-json.ts';
import { PositionCalculator, computeAll } from '../../../src/sky/fast-path.ts';
import { computeGeoFrame, decodeGeoFrame, encodeGeoFrame } from '../../../src/sky/geo-frame.ts';
import { SpotSky } from '../../../src/sky/spot-sky.ts';
import type { BodyPosition } from '../../../src/sky/types.ts';
import { rng } from './helpers.ts';

// A cell computed on an API node from the worker's frame (through its JSON, as it travels) must be what GET /planets
// (computeAll) gives for the cell's observer at the frame's instant: positions, brightness and constellation to the
// byte; rise/transit/set within 10 ms (a cached entry was searched from an earlier instant, and the searches stop at
// 0.1 s, so the root found depends a little on where the search started; the grid has the same bound).

const withoutEvents = ({ rise: _r, transit: _t, set: _s, ...rest }: BodyPosition) => rest;

describe('SpotSky from a geocentric frame', () => {
  it('equals computeAll for the cell observer (positions to the byte, events within 10 ms), after the frame went through JSON', () => {
    const r = rng(4242);
    const spots = [
      { lat: -23.7, lon: 133.88, elevation: 545 },
      { lat: 0, lon: -150, elevation: 0 },
      { lat: 70, lon: 25.5, elevation: 10 },
      { lat: 89.99, lon: 0, elevation: 2800 },
      { lat: -90, lon: 0, elevation: 2835 },
      ...Array.from({ length: 15 }, () => ({ lat: 180 * r() - 90, lon: 360 * r() - 180, elevation: Math.round(3000 * r()) })),
    ];
    const skies = spots.map((s) => new SpotSky(cellOf(s)));
    // One calculator and one serialiser for every cell, as on an API node; the worker has its own calculator.
    const calc = new PositionCalculator();
    const worker = new PositionCalculator();
    const writer = new BodiesJsonWriter();
    const json = (i: number, frame: Parameters<SpotSky['compute']>[0]): string => writer.write(skies[i]!.compute(frame, calc), i);
    // Ten minutes of one-second ticks, then jumps forward and back (entries re-searched when time goes backwards).
    const start = Date.UTC(2026, 11, 3, 10, 0, 0);
    const instants = [...Array.from({ length: 600 }, (_, i) => start + i * 1000), start + 86_400_000, start - 3_600_000, start + 37 * 86_400_000];
    let compared = 0;
    for (const ms of instants) {
      const encoded = encodeGeoFrame(computeGeoFrame(new Date(ms), worker), ms + 3);
      const decoded = decodeGeoFrame(encoded, calc.constellations)!;
      expect(decoded.publishedAt).toBe(ms + 3);
      // Every 20th tick compared in full (computeAll searches every event on every call).
      if (ms % 20_000 !== 0 && ms - start < 600_000) {
        skies.forEach((_, i) => json(i, decoded.frame));
        continue;
      }
      for (let i = 0; i < skies.length; i++) {
        const s = skies[i]!;
        const got: BodyPosition[] = JSON.parse(json(i, decoded.frame));
        const want = computeAll(s.cell, new Date(ms));
        expect(got.map(withoutEvents)).toEqual(want.map(withoutEvents));
        for (let b = 0; b < want.length; b++) {
          for (const k of ['rise', 'transit', 'set'] as const) {
            const g = got[b]![k];
            const w = want[b]![k];
            if (g === null || w === null) expect(g).toBe(w);
            else expect(Math.abs(Date.parse(g) - Date.parse(w))).toBeLessThanOrEqual(10);
          }
        }
        compared++;
      }
    }
    expect(compared).toBe(skies.length * 33);
    // The events were searched once per body and again only when due, not every tick.
    const searches = skies.reduce((n, s) => n + s.stats.searches, 0);
    expect(searches).toBeLessThan(skies.length * 10 * 8);
    expect(searches).toBeGreaterThanOrEqual(skies.length * 10 * 4);
  });

  it('refuses a frame that is not whole', () => {
    const calc = new PositionCalculator();
    const json = encodeGeoFrame(computeGeoFrame(new Date('2026-12-03T00:00:00Z'), calc), 1);
    expect(decodeGeoFrame(json, calc.constellations)).toBeDefined();
    expect(decodeGeoFrame('{"time":"2026-12-03T00:00:00.000Z"}', calc.constellations)).toBeUndefined();
    expect(decodeGeoFrame(json.replace('"bodies":[[', '"bodies":[["x",'), calc.constellations)).toBeUndefined();
    expect(decodeGeoFrame('not json', calc.constellations)).toBeUndefined();
  });
});
