import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/http/app.ts';
import { ErrorSchema, EventsResponse } from '../../../src/http/schemas.ts';
import { NASA_LUNAR_ECLIPSE_2025_03_14 as LUNAR } from '../../fixtures/sky-references.ts';

// GET /events through app.request(): answers checked against the response schema, bad input against the error shape
// and the parameter its message names.

const app = createApp({ logger: { error: () => {} } });

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await app.request(path);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  return { status: res.status, body: await res.json() };
}

describe('GET /events', () => {
  it('answers the calendar for coordinates, sorted and in span, schema-valid', async () => {
    const { status, body } = await get(
      `/events?lat=${LUNAR.visibleFrom.lat}&lon=${LUNAR.visibleFrom.lon}&from=2025-03-13T00:00:00Z&to=2025-03-15T00:00:00Z`,
    );
    expect(status).toBe(200);
    EventsResponse.parse(body);
    expect(body.from).toBe('2025-03-13T00:00:00.000Z');
    const eclipse = body.events.find((e: any) => e.kind === 'eclipse');
    expect(eclipse).toMatchObject({ eclipse: 'lunar', type: 'total', visible: true });
    expect(Math.abs(Date.parse(eclipse.time) - Date.parse(LUNAR.greatest))).toBeLessThanOrEqual(60_000);
    const kinds = new Set(body.events.map((e: any) => e.kind));
    for (const k of ['rise', 'set', 'transit', 'dusk', 'dawn']) expect(kinds.has(k), k).toBe(true);
  });

  it('takes a grid location and a kinds list; a year of phases and eclipses is fine', async () => {
    const { status, body } = await get('/events?location=london&from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z&kinds=phase,eclipse');
    expect(status).toBe(200);
    EventsResponse.parse(body);
    expect(body.location).toBe('london');
    expect(body.kinds).toEqual(['phase', 'eclipse']);
    expect(body.events.filter((e: any) => e.kind === 'phase').length).toBeGreaterThanOrEqual(48);
    expect(body.events.every((e: any) => e.kind === 'phase' || e.kind === 'eclipse')).toBe(true);
  });

  it('defaults: Greenwich, from now, 24 h', async () => {
    const before = Date.now();
    const { status, body } = await get('/events?kinds=transit');
    expect(status).toBe(200);
    expect(body.observer).toEqual({ lat: 51.4769, lon: -0.0005, elevation: 0 });
    expect(Date.parse(body.from)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(86_400_000);
    expect(body.events.filter((e: any) => e.kind === 'transit').length).toBeGreaterThanOrEqual(9);
  });

  const bad: [string, string, RegExp][] = [
    ['from after to', '/events?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', /^to must be after from/],
    ['span over a limit', '/events?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&kinds=rise', /^to: .*over the limit for rise 14 days/],
    ['unknown kind', '/events?kinds=rise,sunburst', /^kinds: unknown kind "sunburst"/],
    ['malformed instant', '/events?from=yesterday', /^from must be an ISO-8601 instant/],
    ['malformed to', '/events?to=2026-13-01T00:00:00Z', /^to must be an ISO-8601 instant/],
    ['unknown location', '/events?location=atlantis', /^location: unknown grid location "atlantis"/],
    ['location with lat', '/events?location=london&lat=1&lon=2', /^lat cannot be combined with location/],
    ['lat without lon', '/events?lat=10', /^lon is missing/],
    ['bad lat', '/events?lat=95&lon=0', /^lat must be a number between -90 and 90/],
    ['unknown parameter', '/events?when=now', /unknown query parameter "when"/],
  ];
  for (const [name, path, message] of bad) {
    it(`400 naming the parameter: ${name}`, async () => {
      const { status, body } = await get(path);
      expect(status).toBe(400);
      ErrorSchema.parse(body);
      expect(body.error).toBe('invalid_parameter');
      expect(body.message).toMatch(message);
    });
  }

  it('is in the OpenAPI document', async () => {
    const { body } = await get('/openapi.json');
    expect(body.paths['/events'].get.parameters.map((p: any) => p.name)).toEqual(
      expect.arrayContaining(['location', 'lat', 'lon', 'elevation', 'from', 'to', 'kinds']),
    );
    expect(body.components.schemas.Happening).toBeDefined();
  });
});
