import { Body, Equator, Horizon, MakeTime, Observer } from 'astronomy-engine';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/http/app.ts';
import { PlanetResponse } from '../../../src/http/schemas.ts';

// The route's numbers against astronomy-engine called here directly (topocentric equator of date, then horizon),
// so a unit slip, a swapped lat/lon or a wrong refraction flag anywhere between the query string and the
// ephemeris shows up. Tolerance: 1 arcsecond.

const ARCSEC = 1 / 3600;
const app = createApp();

/** Angular separation in degrees between two (lon-like, lat-like) directions, safe near the poles. */
function separationDeg(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const r = Math.PI / 180;
  const c =
    Math.sin(lat1 * r) * Math.sin(lat2 * r) + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.cos((lon1 - lon2) * r);
  return Math.acos(Math.min(1, Math.max(-1, c))) / r;
}

describe.each([
  { lat: -39.754, lon: 145.051, elevation: 0, time: '2026-03-20T12:00:00Z', refraction: 'normal' as const },
  { lat: 48.93, lon: 2.45, elevation: 35, time: '2026-11-05T22:15:30Z', refraction: 'normal' as const },
  { lat: 19.8207, lon: -155.468, elevation: 4205, time: '1969-07-20T20:17:40Z', refraction: 'none' as const },
])('GET /planets/mars at $lat,$lon $time ($refraction)', (o) => {
  it('matches Equator + Horizon within 1 arcsecond', async () => {
    const res = await app.request(
      `/planets/mars?lat=${o.lat}&lon=${o.lon}&elevation=${o.elevation}&time=${o.time}&refraction=${o.refraction}`,
    );
    expect(res.status).toBe(200);
    const p = PlanetResponse.parse(await res.json());

    const t = MakeTime(new Date(o.time));
    const obs = new Observer(o.lat, o.lon, o.elevation);
    const eq = Equator(Body.Mars, t, obs, true, true);
    const hor = Horizon(t, obs, eq.ra, eq.dec, o.refraction === 'normal' ? 'normal' : undefined);

    expect(p.time).toBe(new Date(o.time).toISOString());
    expect(separationDeg(p.az, p.alt, hor.azimuth, hor.altitude)).toBeLessThan(ARCSEC);
    expect(Math.abs(p.alt - hor.altitude)).toBeLessThan(ARCSEC);
    expect(separationDeg(p.ra * 15, p.dec, eq.ra * 15, eq.dec)).toBeLessThan(ARCSEC);
    expect(Math.abs(p.distance - eq.dist) / eq.dist).toBeLessThan(1e-7);
    expect(p.aboveHorizon).toBe(hor.altitude > 0);
  });
});

it('refraction=none and normal differ by the atmosphere only', async () => {
  const q = '/planets/sun?lat=51.4769&lon=-0.0005&time=2026-03-20T06:30:00Z';
  const normal = PlanetResponse.parse(await (await app.request(`${q}&refraction=normal`)).json());
  const none = PlanetResponse.parse(await (await app.request(`${q}&refraction=none`)).json());
  // Near the horizon refraction lifts the Sun by roughly half a degree; azimuth is untouched.
  expect(normal.alt - none.alt).toBeGreaterThan(0.1);
  expect(normal.alt - none.alt).toBeLessThan(0.7);
  expect(Math.abs(normal.az - none.az)).toBeLessThan(ARCSEC);
});
