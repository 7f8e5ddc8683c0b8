import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/http/app.ts';
import { ErrorSchema, TonightResponse } from '../../../src/http/schemas.ts';
import { computeBody } from '../../../src/sky/fast-path.ts';
import { TWILIGHT_ORLANDO } from '../../fixtures/sky-references.ts';

// GET /tonight through app.request(): schema-valid plans, polar cases answered with a reason, bad input as 400.

const app = createApp({ logger: { error: () => {} } });

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await app.request(path);
  return { status: res.status, body: await res.json() };
}

describe('GET /tonight', () => {
  it('Orlando: Sun times within a minute of USNO; visible bodies have a window 10° up in a dark enough sky, best moment checked with /planets', async () => {
    const { lat, lon } = TWILIGHT_ORLANDO;
    // USNO row of 2021-11-07 (UT): dusks that evening, dawns the next morning are in the next row's start — use the dusks.
    const [, , , , civilDusk, nauticalDusk, astronomicalDusk] = TWILIGHT_ORLANDO.rows[0]!;
    const { status, body } = await get(`/tonight?lat=${lat}&lon=${lon}&date=2021-11-07`);
    expect(status).toBe(200);
    TonightResponse.parse(body);
    expect(body.night).toBe('normal');
    const near = (a: string, b: string) => Math.abs(Date.parse(a) - Date.parse(`${b}Z`));
    expect(near(body.sun.dusk.civil, civilDusk)).toBeLessThanOrEqual(60_000);
    expect(near(body.sun.dusk.nautical, nauticalDusk)).toBeLessThanOrEqual(60_000);
    expect(near(body.sun.dusk.astronomical, astronomicalDusk)).toBeLessThanOrEqual(60_000);
    expect(Date.parse(body.sun.sunset)).toBeLessThan(Date.parse(body.sun.dusk.civil));
    expect(Date.parse(body.sun.sunrise)).toBeGreaterThan(Date.parse(body.sun.dawn.civil));
    const visible = body.bodies.filter((b: any) => b.visible);
    expect(visible.length).toBeGreaterThan(2);
    const observer = { lat, lon, elevation: 0 };
    for (const b of visible) {
      const at = computeBody(b.name, observer, new Date(b.best.time));
      expect(Math.abs(at.alt - b.best.alt), b.name).toBeLessThan(0.05);
      expect(at.constellation, b.name).toBe(b.best.constellation);
      expect(b.best.alt).toBeGreaterThanOrEqual(10);
      for (const t of [b.window.start, b.window.end]) {
        expect(computeBody(b.name, observer, new Date(t)).alt).toBeGreaterThanOrEqual(9.9);
        expect(computeBody('sun', observer, new Date(t), 'none').alt).toBeLessThan(b.darkFrom === 'civil' ? -5.99 : -17.99);
      }
      expect(b.instrument).toBe(b.magnitude <= 6 ? 'naked_eye' : b.magnitude <= 9 ? 'binoculars' : 'telescope');
    }
    expect(body.bodies.find((b: any) => b.name === 'pluto').instrument).toBe('telescope');
  });

  it('polar day and polar night answer with a reason, and so does a body that never rises', async () => {
    const day = await get('/tonight?lat=78.22&lon=15.65&date=2026-06-21');
    expect(day.status).toBe(200);
    TonightResponse.parse(day.body);
    expect(day.body).toMatchObject({ night: 'polar_day', sun: { sunset: null, sunrise: null } });
    expect(day.body.reason).toMatch(/polar day/);
    for (const b of day.body.bodies) expect(b).toMatchObject({ visible: false, window: null, best: null, reason: expect.stringMatching(/dark enough/) });

    const night = await get('/tonight?lat=78.22&lon=15.65&date=2026-12-21');
    expect(night.status).toBe(200);
    TonightResponse.parse(night.body);
    expect(night.body).toMatchObject({ night: 'polar_night', sun: { sunset: null, sunrise: null } });
    expect(night.body.reason).toMatch(/polar night/);
    const down = night.body.bodies.filter((b: any) => !b.visible && /below the horizon all night/.test(b.reason));
    expect(down.length).toBeGreaterThan(0);
    for (const b of down) {
      for (let h = 0; h < 24; h += 3) {
        expect(computeBody(b.name, { lat: 78.22, lon: 15.65, elevation: 0 }, new Date(Date.parse(night.body.from) + h * 3_600_000)).alt).toBeLessThan(0);
      }
    }
  });

  const bad: [string, RegExp][] = [
    ['/tonight?date=2026-02-30', /^date must be a calendar date/],
    ['/tonight?date=tomorrow', /^date must be a calendar date/],
    ['/tonight?date=1800-01-01', /^date must be from 1900-01-01/],
    ['/tonight?lat=91&lon=0', /^lat must be a number/],
    ['/tonight?lat=10', /^lon is missing/],
    ['/tonight?time=2026-01-01T00:00:00Z', /unknown query parameter "time"/],
  ];
  for (const [path, message] of bad) {
    it(`400 naming the parameter: ${path}`, async () => {
      const { status, body } = await get(path);
      expect(status).toBe(400);
      ErrorSchema.parse(body);
      expect(body.message).toMatch(message);
    });
  }
});
