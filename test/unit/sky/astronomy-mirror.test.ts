import { readFileSync } from 'node:fs';
import {
  AstroTime,
  Body,
  Constellation,
  Equator,
  Horizon,
  Illumination,
  KM_PER_AU,
  Observer,
  ObserverVector,
  SearchRiseSet,
  SiderealTime,
  e_tilt,
} from 'astronomy-engine';
import { describe, expect, it } from 'vitest';
import {
  ERA_RATE,
  MIRRORED_ASTRONOMY_ENGINE_VERSION,
  bodyRadiusAu,
  earthRotationDeg,
  maxAltitudeSlope,
  visualMagnitude,
} from '../../../src/sky/astronomy-mirror.ts';
import { ENGINE_BODY } from '../../../src/sky/bodies.ts';
import { ConstellationLookup, clearConstellationCache } from '../../../src/sky/constellation.ts';
import { EventSearch } from '../../../src/sky/event-search.ts';
import { makeSite } from '../../../src/sky/topocentric.ts';
import { spanFor } from '../../../src/sky/track.ts';
import { BODY_NAMES } from '../../../src/sky/types.ts';
import { rng } from './helpers.ts';

// src/sky/astronomy-mirror.ts copies what astronomy-engine keeps private. Each copy is checked here
// against the library's own exported results, and the version pin says which release they were taken
// from: an upgrade fails the first test until someone has compared the copies with the new release.

const UT_MIN = -36524; // 1900
const UT_MAX = 36524; // 2100

function randomUt(r: () => number): number {
  return UT_MIN + r() * (UT_MAX - UT_MIN);
}

describe('astronomy-mirror', () => {
  it('pins the astronomy-engine release it mirrors', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../node_modules/astronomy-engine/package.json', import.meta.url), 'utf8'));
    expect(pkg.version).toBe(MIRRORED_ASTRONOMY_ENGINE_VERSION);
  });

  it("earthRotationDeg is the ERA inside SiderealTime(), and ERA_RATE its slope", () => {
    const r = rng(101);
    for (let i = 0; i < 200; i++) {
      const time = new AstroTime(randomUt(r));
      // sidereal_time() in astronomy.js, with our ERA in place of its era().
      const t = time.tt / 36525;
      const st =
        15 * e_tilt(time).ee +
        0.014506 +
        ((((-0.0000000368 * t - 0.000029956) * t - 0.00000044) * t + 1.3915817) * t + 4612.156534) * t;
      let gst = ((st / 3600 + earthRotationDeg(time.ut)) % 360) / 15;
      if (gst < 0) gst += 24;
      expect(Math.abs(gst - SiderealTime(time))).toBeLessThan(1e-12);
      const step = earthRotationDeg(time.ut + 0.25) - earthRotationDeg(time.ut) - ERA_RATE * 0.25;
      expect((((step % 360) + 540) % 360) - 180).toBeCloseTo(0, 9);
    }
  });

  it("the Earth model puts an observer where ObserverVector() does", () => {
    const r = rng(102);
    for (let i = 0; i < 200; i++) {
      const lat = 180 * r() - 90;
      const lon = 360 * r() - 180;
      const elevation = Math.round(9000 * r()) - 500;
      const time = new AstroTime(randomUt(r));
      const site = makeSite({ lat, lon, elevation });
      // The site is in the Earth-fixed frame; ObserverVector(ofdate) is in the equator of date, at GAST.
      const g = (15 * SiderealTime(time) * Math.PI) / 180;
      const want = ObserverVector(time, new Observer(lat, lon, elevation), true);
      const x = Math.cos(g) * site.px - Math.sin(g) * site.py;
      const y = Math.sin(g) * site.px + Math.cos(g) * site.py;
      const errKm = Math.hypot(x - want.x, y - want.y, site.pz - want.z) * KM_PER_AU;
      expect(errKm).toBeLessThan(1e-6);
    }
  });

  it('the visual magnitude laws give what Illumination() gives, for every body', () => {
    const r = rng(103);
    for (const name of BODY_NAMES) {
      const body = ENGINE_BODY[name];
      for (let i = 0; i < 40; i++) {
        const info = Illumination(body, new AstroTime(randomUt(r)));
        const mag = visualMagnitude(body, info.phase_angle, info.helio_dist, info.geo_dist, info.ring_tilt ?? 0);
        expect(Math.abs(mag - info.mag), `${name}`).toBeLessThan(1e-9);
      }
    }
  });

  it('the rise/set search (window, slope bound, ascent bisection, radii, refraction) finds what SearchRiseSet() finds', () => {
    const r = rng(104);
    const search = new EventSearch();
    let found = 0;
    for (let i = 0; i < 300; i++) {
      const lat = i % 4 === 0 ? (r() < 0.5 ? -1 : 1) * (60 + 30 * r()) : 120 * r() - 60;
      const lon = 360 * r() - 180;
      const elevation = Math.round(3000 * r());
      const body = ENGINE_BODY[BODY_NAMES[i % BODY_NAMES.length]!];
      const ut = randomUt(r);
      const direction = i % 2 === 0 ? 1 : -1;
      const want = SearchRiseSet(body, new Observer(lat, lon, elevation), direction, new AstroTime(ut), 1);
      const got = search.riseSet(spanFor(body, ut), makeSite({ lat, lon, elevation }), body, direction, ut, 1);
      const label = `${body} ${direction} lat ${lat} lon ${lon} ut ${ut}`;
      if (want === null || got === null) {
        // A grazing event exactly at the 1-day limit may fall either side of it; nothing else may differ.
        if (want !== got) expect(Math.abs((want?.ut ?? got!) - (ut + 1)) * 86_400, label).toBeLessThan(1);
        continue;
      }
      found++;
      expect(Math.abs(got - want.ut) * 86_400, label).toBeLessThan(1);
    }
    expect(found).toBeGreaterThan(200);
  });

  it('bodyRadiusAu is the radius the library uses for the upper limb', () => {
    expect(bodyRadiusAu(Body.Sun) * KM_PER_AU).toBeCloseTo(695700, 6);
    expect(bodyRadiusAu(Body.Moon) * KM_PER_AU).toBeCloseTo(1738.1, 6);
    expect(bodyRadiusAu(Body.Mars)).toBe(0);
  });

  it('maxAltitudeSlope bounds how fast the library sees each body climb or sink', () => {
    const r = rng(105);
    for (let i = 0; i < 300; i++) {
      const lat = 180 * r() - 90;
      const observer = new Observer(lat, 360 * r() - 180, 0);
      const body = ENGINE_BODY[BODY_NAMES[i % BODY_NAMES.length]!];
      const ut = randomUt(r);
      const dt = 1 / 1440;
      const alt = (u: number): number => {
        const time = new AstroTime(u);
        const eq = Equator(body, time, observer, true, true);
        return Horizon(time, observer, eq.ra, eq.dec).altitude;
      };
      const rate = Math.abs(alt(ut + dt) - alt(ut)) / dt;
      expect(rate).toBeLessThanOrEqual(maxAltitudeSlope(body, lat));
    }
  });

  it("CONSTELLATION_EPOCH_UT is Constellation()'s B1875 epoch: boundaries fall on the cache's cell edges", () => {
    // The lookup caches one answer per B1875 lattice cell. With the right epoch every boundary is a
    // cell edge, so two points a hair either side of one are in different cells; with a wrong epoch
    // they share a cell and the second gets the first one's answer.
    const r = rng(106);
    const lookup = new ConstellationLookup();
    const symbol = (raDeg: number, dec: number): string => Constellation((((raDeg % 360) + 360) % 360) / 15, dec).symbol;
    const lookUp = (raDeg: number, dec: number): string => {
      const a = (raDeg * Math.PI) / 180;
      const d = (dec * Math.PI) / 180;
      return lookup.of(Math.cos(d) * Math.cos(a), Math.cos(d) * Math.sin(a), Math.sin(d));
    };
    let boundaries = 0;
    for (let i = 0; i < 400 && boundaries < 60; i++) {
      let lo = 360 * r();
      let hi = lo + 3;
      const dec = (Math.asin(1.8 * r() - 0.9) * 180) / Math.PI;
      if (symbol(lo, dec) === symbol(hi, dec)) continue;
      // Bisect (in J2000 RA) to the boundary, with the library itself.
      while (hi - lo > 1e-7) {
        const mid = (lo + hi) / 2;
        if (symbol(mid, dec) === symbol(lo, dec)) lo = mid;
        else hi = mid;
      }
      boundaries++;
      clearConstellationCache();
      expect(lookUp(lo - 1e-5, dec)).toBe(symbol(lo - 1e-5, dec));
      expect(lookUp(hi + 1e-5, dec)).toBe(symbol(hi + 1e-5, dec));
    }
    expect(boundaries).toBeGreaterThan(30);
  });
});
