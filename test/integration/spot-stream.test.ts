import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiNode, type ApiNode } from '../../scripts/processes.ts';
import { openStream, type SseMessage, type SseStream } from '../../scripts/sse-client.ts';
import { BODY_NAMES } from '../../src/sky/types.ts';

// Exact-spot streams in the embedded default (`npm start`: no Redis, the tick loop in the same process): spots far from
// every grid city stream updates that match GET /planets for the same coordinates at the update's own time; resume
// after a drop; bad input refused as JSON naming the parameter; the distinct-spots limit per client address.

const TICK_MS = 1000;
const MAX_SPOTS = 3;
let node: ApiNode;
const open: SseStream[] = [];

interface SpotSnapshot {
  location: { id: string; name: string; lat: number; lon: number; elevation: number; timezone: string };
  observer: { latitude: number; longitude: number; elevation: number };
  cell: { id: string; latitude: number; longitude: number; elevation: number };
  time: string;
  bodies: { name: string; az: number; alt: number }[];
  publishedAt: number;
}

const stream = async (path: string, headers?: Record<string, string>): Promise<SseStream> => {
  const s = await openStream(`${node.url}${path}`, { headers });
  open.push(s);
  return s;
};
const nUpdates = (n: number) => (ms: SseMessage[]) => ms.filter((m) => m.event === 'update').length >= n;
const snap = (m: SseMessage): SpotSnapshot => JSON.parse(m.data!) as SpotSnapshot;
const wrap180 = (d: number): number => ((((d + 180) % 360) + 360) % 360) - 180;
const metric = async (name: string): Promise<number> => {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
};

beforeAll(async () => {
  node = await startApiNode({ TICK_MS: String(TICK_MS), WORKER_LOCATIONS: 'london', HISTORY_SECONDS: '30', HEARTBEAT_MS: '1000', MAX_SPOTS_PER_CLIENT: String(MAX_SPOTS) });
});

afterAll(async () => {
  for (const s of open) s.close();
  const exit = await node?.stop();
  expect(exit?.code).toBe(0);
});

describe('GET /stream?lat=&lon= (embedded)', () => {
  it.each([
    ['Alice Springs', '-23.70', '133.88', undefined],
    ['mid-Pacific', '0', '-150', undefined],
    ['70° N, between cells, at altitude', '70.123456', '-20.987654', '1234'],
  ])('%s: every update matches GET /planets for the same coordinates at its own time within 0.02°', async (_name, lat, lon, elevation) => {
    const q = `lat=${lat}&lon=${lon}${elevation ? `&elevation=${elevation}` : ''}`;
    const s = await stream(`/stream?${q}`);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream');
    await s.waitFor(nUpdates(3), 20_000, '3 updates');
    s.close();
    let worst = 0;
    for (const m of s.updates().slice(0, 3)) {
      const u = snap(m);
      expect(Object.keys(u)).toEqual(['location', 'observer', 'cell', 'time', 'bodies', 'publishedAt']);
      expect(u.observer).toEqual({ latitude: Number(lat), longitude: Number(lon), elevation: Number(elevation ?? 0) });
      expect(Math.abs(u.cell.latitude - Number(lat))).toBeLessThanOrEqual(0.00005);
      expect(Math.abs(u.cell.longitude - Number(lon))).toBeLessThanOrEqual(0.00005);
      expect(u.location.id).toBe(u.cell.id);
      expect(Number(m.id)).toBe(Date.parse(u.time));
      expect(Number(m.id) % TICK_MS).toBe(0);
      expect(u.bodies.map((b) => b.name)).toEqual([...BODY_NAMES]);
      const res = await fetch(`${node.url}/planets?${q}&time=${encodeURIComponent(u.time)}`);
      expect(res.status).toBe(200);
      const planets = (await res.json()) as { bodies: { name: string; az: number; alt: number }[] };
      for (let i = 0; i < planets.bodies.length; i++) {
        const want = planets.bodies[i]!;
        const got = u.bodies[i]!;
        expect(got.name).toBe(want.name);
        const dAz = Math.abs(wrap180(got.az - want.az));
        const dAlt = Math.abs(got.alt - want.alt);
        worst = Math.max(worst, dAz, dAlt);
        expect(dAz, `${got.name} azimuth`).toBeLessThan(0.02);
        expect(dAlt, `${got.name} altitude`).toBeLessThan(0.02);
      }
    }
    // Four-decimal coordinates are their own cell centre: computed exactly there.
    if (lat.length <= 7 && lon.length <= 9 && !elevation) expect(worst).toBe(0);
  });

  it('resumes with Last-Event-ID from the ticks it missed, and says so when they are gone', async () => {
    const first = await stream('/stream?lat=-31.5&lon=-64.25');
    await first.waitFor(nUpdates(2), 15_000, '2 updates');
    first.close();
    const lastId = Number(first.updates().at(-1)!.id);
    await new Promise((r) => setTimeout(r, 2500));
    const resumed = await stream('/stream?lat=-31.5&lon=-64.25', { 'Last-Event-ID': String(lastId) });
    await resumed.waitFor(nUpdates(3), 15_000, '3 updates after resuming');
    const ids = resumed.updates().map((m) => Number(m.id));
    // Every tick after the last one seen, in order, none twice: the missed ones first, then live.
    expect(ids[0]).toBe(lastId + TICK_MS);
    ids.forEach((id, i) => expect(id).toBe(lastId + TICK_MS * (i + 1)));
    expect(resumed.messages.some((m) => m.event === 'resume')).toBe(false);
    resumed.close();
    // An id older than the history (HISTORY_SECONDS=30): told what was lost, then the kept ticks.
    const stale = await stream('/stream?lat=-31.5&lon=-64.25', { 'Last-Event-ID': String(lastId - 3_600_000) });
    await stale.waitFor((ms) => ms.some((m) => m.event === 'resume') && nUpdates(1)(ms), 15_000, 'resume notice and an update');
    const notice = JSON.parse(stale.messages.find((m) => m.event === 'resume')!.data!);
    expect(notice).toMatchObject({ recovered: false, lastEventId: String(lastId - 3_600_000) });
    stale.close();
  });

  it.each([
    ['lat=10', 400, /lon is missing/],
    ['lon=10', 400, /lat is missing/],
    ['', 400, /lat and lon are required/],
    ['lat=91&lon=0', 400, /^lat must be a number between -90 and 90, got "91"/],
    ['lat=abc&lon=0', 400, /^lat must be a number between -90 and 90, got "abc"/],
    ['lat=0&lon=180.5', 400, /^lon must be a number between -180 and 180/],
    ['lat=0&lon=', 400, /^lon must not be empty/],
    ['lat=0&lon=0&elevation=high', 400, /^elevation must be a number of metres/],
    ['lat=0&lon=0&lat=1', 400, /lat is given more than once/],
    ['lat=0&lon=0&city=x', 400, /unknown query parameter "city"/],
    ['lat=0&lon=0&lastEventId=yesterday', 400, /^lastEventId must be an event id/],
  ])('refuses ?%s with %i and a JSON message naming the parameter', async (query, status, message) => {
    const res = await fetch(`${node.url}/stream?${query}`, { headers: { Accept: 'text/event-stream' } });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('invalid_parameter');
    expect(body.message).toMatch(message);
  });

  it(`refuses a client address a spot beyond MAX_SPOTS_PER_CLIENT (${MAX_SPOTS}) distinct ones, not another viewer of one it holds`, async () => {
    // Loopback is a trusted proxy by default: the client is the forwarded address.
    const as = (ip: string) => ({ 'X-Forwarded-For': ip });
    const held = await Promise.all(['lat=1&lon=1', 'lat=2&lon=2', 'lat=3&lon=3'].map((q) => stream(`/stream?${q}`, as('203.0.113.9'))));
    for (const s of held) expect(s.status).toBe(200);
    // Another stream of a spot in a held cell is fine.
    const again = await stream('/stream?lat=1.00001&lon=1', as('203.0.113.9'));
    expect(again.status).toBe(200);
    const fourth = (ip: string): Promise<Response> =>
      fetch(`${node.url}/stream?lat=4&lon=4`, { headers: { Accept: 'text/event-stream', ...as(ip) } });
    const res = await fourth('203.0.113.9');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('5');
    const body = (await res.json()) as { error: string; message: string };
    expect(body).toMatchObject({ error: 'too_many_spots', message: expect.stringContaining('MAX_SPOTS_PER_CLIENT=3') });
    // Another address is not affected.
    const other = await fourth('198.51.100.1');
    expect(other.status).toBe(200);
    await other.body?.cancel();
    held[0]!.close();
    again.close();
    await expect
      .poll(async () => {
        const r = await fourth('203.0.113.9');
        await r.body?.cancel();
        return r.status;
      }, { timeout: 10_000 })
      .toBe(200);
    for (const s of held) s.close();
  });

  it('counts cells on /metrics and drops them when their last viewer leaves', async () => {
    for (const s of open) s.close();
    await expect.poll(() => metric('orrery_spot_cells_active'), { timeout: 10_000 }).toBe(0);
    const a = await stream('/stream?lat=-45&lon=170');
    const b = await stream('/stream?lat=-45&lon=170');
    const c = await stream('/stream?lat=-45.00001&lon=170.00001&elevation=2');
    await Promise.all([a, b, c].map((s) => s.waitFor(nUpdates(2), 15_000, '2 updates')));
    expect(await metric('orrery_spot_cells_active')).toBe(1);
    expect(await metric('orrery_spot_observers_active')).toBe(2);
    const c0 = await metric('orrery_spot_cell_computations_total');
    await a.waitFor(nUpdates(5), 15_000, '5 updates');
    const c1 = await metric('orrery_spot_cell_computations_total');
    // Three viewers, one cell: one computation per tick (give or take the tick in flight at either read).
    const ticks = a.updates().length - 2;
    expect(c1 - c0).toBeGreaterThanOrEqual(ticks - 1);
    expect(c1 - c0).toBeLessThanOrEqual(ticks + 2);
    for (const s of [a, b, c]) s.close();
    await expect.poll(() => metric('orrery_spot_cells_active'), { timeout: 10_000 }).toBe(0);
    expect(await metric('orrery_spot_observers_active')).toBe(0);
  });
});
