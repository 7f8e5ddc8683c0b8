import { describe, expect, it } from 'vitest';
import { createApp } from '../../../src/http/app.ts';
import { nearest } from '../../../src/sky/locations.ts';

// GET /places and GET /timezone through app.request(): names found with their coordinates and zone, typed coordinates
// read, the zone of any point its own (not the nearest grid city's), bad input as 400 naming the parameter.

const app = createApp({ logger: { error: () => {} } });

async function get(path: string): Promise<{ status: number; body: any }> {
  const res = await app.request(path);
  return { status: res.status, body: await res.json() };
}

describe('GET /places', () => {
  it('finds a city by name, most populous first, accents and case ignored, with its time zone', async () => {
    const { status, body } = await get('/places?q=paris');
    expect(status).toBe(200);
    const first = body.places[0];
    expect(first).toMatchObject({ name: 'Paris', country: 'FR', timezone: 'Europe/Paris', kind: 'city' });
    expect(first.lat).toBeCloseTo(48.85, 1);
    expect(first.lon).toBeCloseTo(2.35, 1);
    // "sao paulo" finds São Paulo (GeoNames spells it with the tilde), in its own zone.
    const sp = (await get('/places?q=sao%20paulo&limit=3')).body.places[0];
    expect(sp).toMatchObject({ name: 'São Paulo', country: 'BR', timezone: 'America/Sao_Paulo' });
    // A country code narrows: Paris, Texas.
    const tx = (await get('/places?q=paris,%20us')).body.places;
    expect(tx.length).toBeGreaterThan(0);
    expect(tx.every((p: any) => p.country === 'US')).toBe(true);
    expect(tx.some((p: any) => p.timezone === 'America/Chicago')).toBe(true);
    // Prefixes too, each answer starting with the text.
    const prefix = (await get('/places?q=reykj&limit=5')).body.places;
    expect(prefix[0]).toMatchObject({ name: 'Reykjavík', country: 'IS', timezone: 'Atlantic/Reykjavik' });
    expect((await get('/places?q=zzzzqqq')).body.places).toEqual([]);
  });

  it('reads typed coordinates in the usual spellings, names the nearest place, and gives that point its own zone', async () => {
    for (const q of ['31.76, -106.49', '31.76N 106.49W', '31,76; -106,49']) {
      const { status, body } = await get(`/places?q=${encodeURIComponent(q)}`);
      expect(status, q).toBe(200);
      expect(body.places).toHaveLength(1);
      expect(body.places[0]).toMatchObject({ kind: 'coordinates', lat: 31.76, lon: -106.49, timezone: 'America/Denver' });
      expect(body.places[0].near.name).toBe('El Paso');
    }
  });

  it('answers bad input with 400 naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['/places', /^q is required/],
      ['/places?q=', /^q must be 1 to 100 characters/],
      [`/places?q=${'a'.repeat(101)}`, /^q must be 1 to 100/],
      ['/places?q=paris&limit=0', /^limit must be an integer from 1 to 20/],
      ['/places?q=paris&limit=abc', /^limit must be/],
      ['/places?q=95,%2010', /^q: latitude must be between -90 and 90/],
      ['/places?q=10E%2010E', /^q: the latitude takes N or S/],
      ['/places?q=paris&x=1', /unknown query parameter "x"/],
      ['/timezone?lat=10', /^lon is required/],
      ['/timezone?lat=91&lon=0', /^lat must be a number between -90 and 90/],
    ];
    for (const [path, message] of cases) {
      const { status, body } = await get(path);
      expect(status, path).toBe(400);
      expect(body.error, path).toBe('invalid_parameter');
      expect(body.message, path).toMatch(message);
    }
  });
});

describe('GET /timezone', () => {
  it('gives any point its own zone, where the nearest grid city is in another one', async () => {
    // El Paso keeps Mountain time; its nearest grid city is not in America/Denver.
    expect(nearest(31.76, -106.49).location.timezone).not.toBe('America/Denver');
    expect((await get('/timezone?lat=31.76&lon=-106.49')).body).toEqual({ lat: 31.76, lon: -106.49, timezone: 'America/Denver' });
    // Mid-Pacific, far from any land: the nautical zone of 140° W is UTC−9 (Etc/GMT+9 in IANA's inverted sign).
    expect((await get('/timezone?lat=0&lon=-140')).body.timezone).toBe('Etc/GMT+9');
    expect((await get('/timezone?lat=-33.92&lon=18.42')).body.timezone).toBe('Africa/Johannesburg');
  });
});
