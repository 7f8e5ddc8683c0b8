import { describe, expect, it } from 'vitest';
import { createMemoryBroker } from '../../../src/broker/memory.ts';
import { hasLatestAtHand, hasValue, type BrokerMessage, type ValueMessage } from '../../../src/broker/broker.ts';
import { createMetrics } from '../../../src/metrics.ts';
import { createLogger } from '../../../src/log.ts';
import { cellOf } from '../../../src/sky/cell.ts';
import { PositionCalculator, computeAll } from '../../../src/sky/fast-path.ts';
import { FRAME_CHANNEL, frameItem, spotChannel } from '../../../src/spots/channel.ts';
import { SpotBroker } from '../../../src/spots/spot-broker.ts';

// The spot broker on the embedded (memory) broker: one computation per cell per frame whatever the number of
// observers and handlers, one message per requested observer, cells and the frame subscription dropped with their
// last viewer, latest and resume computed from stored frames.

const log = createLogger('silent');
const T = Date.UTC(2026, 11, 3, 12, 0, 0);
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
const worker = new PositionCalculator();
const frameAt = (ms: number) => frameItem(ms, ms + 5, worker);

describe('SpotBroker', () => {
  it('computes each cell once per frame, sends each observer its own message, and lets go with the last viewer', async () => {
    const inner = createMemoryBroker({ historyLimit: 10 });
    const spots = new SpotBroker(inner, { log, spreadMs: 900 });
    const alice = { lat: -23.7, lon: 133.88, elevation: 0 };
    const aliceNear = { lat: -23.70001, lon: 133.88002, elevation: 3 }; // same cell, other observer
    const pacific = { lat: 0, lon: -150, elevation: 0 };
    const got = new Map<string, BrokerMessage[]>();
    const on = (ch: string) => (m: BrokerMessage) => got.set(ch, [...(got.get(ch) ?? []), m]);
    const a1 = await spots.subscribe(spotChannel(alice), on('a1'));
    const a2 = await spots.subscribe(spotChannel(alice), on('a2'));
    const n1 = await spots.subscribe(spotChannel(aliceNear), on('n1'));
    const p1 = await spots.subscribe(spotChannel(pacific), on('p1'));
    expect(spots.spotStats()).toMatchObject({ cells: 2, observers: 3 });
    expect(inner.stats().channels).toBe(1); // the frame channel only

    for (let k = 0; k < 3; k++) await inner.publish([frameAt(T + k * 1000)]);
    await settle();
    expect(spots.spotStats().computations).toBe(2 * 3);
    for (const ch of ['a1', 'a2', 'n1', 'p1']) expect(got.get(ch)?.map((m) => m.id)).toEqual([T, T + 1000, T + 2000]);
    const a = JSON.parse(got.get('a1')![2]!.data);
    const n = JSON.parse(got.get('n1')![2]!.data);
    expect(a.observer).toEqual({ latitude: -23.7, longitude: 133.88, elevation: 0 });
    expect(n.observer).toEqual({ latitude: -23.70001, longitude: 133.88002, elevation: 3 });
    expect(a.cell).toEqual({ id: '-23.7000,133.8800,0', latitude: -23.7, longitude: 133.88, elevation: 0 });
    expect(n.cell).toEqual(a.cell);
    expect(n.bodies).toEqual(a.bodies);
    expect(Object.keys(a)).toEqual(['location', 'observer', 'cell', 'time', 'bodies', 'publishedAt']);
    expect(a.time).toBe(new Date(T + 2000).toISOString());
    // Published here, by this node: stamped with its own instant, not the worker's.
    expect(a.publishedAt).toBeGreaterThan(Date.now() - 5000);
    expect(a.location).toMatchObject({ id: '-23.7000,133.8800,0', lat: -23.7, lon: 133.88, elevation: 0 });
    // Positions as GET /planets gives them for the cell observer at the frame's instant.
    const want = computeAll(cellOf(alice), new Date(T + 2000));
    expect(a.bodies.map((b: { az: number; alt: number }) => [b.az, b.alt])).toEqual(want.map((b) => [b.az, b.alt]));
    // Each live message carries the value its text encodes (for the delta encoder), field for field and in order.
    for (const m of [...got.values()].flat()) {
      expect(hasValue(m)).toBe(true);
      const value = (m as ValueMessage).value;
      expect(value).toStrictEqual(JSON.parse(m.data));
      expect(JSON.stringify(value)).toBe(m.data);
    }

    // Latest and history, computed from the stored frames.
    const latest = await spots.latest(spotChannel(pacific));
    expect(latest?.id).toBe(T + 2000);
    expect(latest?.data.replace(/"publishedAt":\d+/, '')).toBe(got.get('p1')![2]!.data.replace(/"publishedAt":\d+/, ''));
    // Asked again within the tick (an observer joining mid-tick): a replay, not a second live computation.
    expect(spots.spotStats()).toMatchObject({ computations: 6, replays: 1 });
    const resumed = await spots.history(spotChannel(pacific), T);
    expect(resumed.map((m) => m.id)).toEqual([T + 1000, T + 2000]);
    const bare = (d: string): string => d.replace(/"publishedAt":\d+/, '');
    expect(resumed.map((m) => bare(m.data))).toEqual(got.get('p1')!.slice(1).map((m) => bare(m.data)));

    a1();
    a1(); // idempotent
    n1();
    expect(spots.spotStats()).toMatchObject({ cells: 2, observers: 2 });
    a2();
    expect(spots.spotStats()).toMatchObject({ cells: 1, observers: 1 });
    p1();
    expect(spots.spotStats()).toMatchObject({ cells: 0, observers: 0 });
    await settle();
    expect(inner.stats().channels).toBe(0);
    // Nothing computed any more.
    await inner.publish([frameAt(T + 3000)]);
    await settle();
    expect(spots.spotStats().computations).toBe(6);
    // Other channels pass through untouched.
    const london: BrokerMessage[] = [];
    await spots.subscribe('london', (m) => london.push(m));
    await spots.publish([{ channel: 'london', id: T, data: '{"time":"x"}' }]);
    expect(london).toHaveLength(1);
    expect(await inner.latest(FRAME_CHANNEL)).toBeDefined();
    await spots.close();
  });

  it('spreads a large tick over spreadMs, each chunk stamped with its own instant; a newer frame takes over', async () => {
    const inner = createMemoryBroker({ historyLimit: 10 });
    const spots = new SpotBroker(inner, { log, spreadMs: 200 });
    const stamps: number[] = [];
    const ticksOf = new Array<number>(600).fill(0);
    for (let i = 0; i < 600; i++) {
      await spots.subscribe(spotChannel({ lat: -60 + i * 0.2, lon: 10, elevation: 0 }), (m) => {
        stamps.push(JSON.parse(m.data).publishedAt);
        ticksOf[i]!++;
      });
    }
    const t0 = Date.now();
    await inner.publish([frameAt(T)]);
    // The first chunk went out at once; the rest follow over spreadMs (200 ms), five chunks of 128.
    expect(stamps.length).toBe(128);
    await expect.poll(() => stamps.length).toBe(600);
    expect(Math.max(...stamps) - t0).toBeGreaterThanOrEqual(150);
    expect(new Set(stamps).size).toBeGreaterThanOrEqual(4);
    // Frames in a row (only microtasks run in between, so each run gets exactly its first chunk done): frame 1 starts
    // a run, frame 2 hurries it, frame 3 finds it still unfinished and takes over from where it stopped; frame 4
    // hurries that one, frame 5 takes over and is left to finish. So over a few overloaded ticks no cell starves.
    for (let t = 1; t <= 5; t++) await inner.publish([frameAt(T + t * 1000)]);
    await expect.poll(() => spots.spotStats().computations).toBe(600 + 2 * 128 + 600);
    // Every cell got the first tick and the last; the chunks of ticks 1 and 3 fell on different cells.
    expect(Math.min(...ticksOf)).toBeGreaterThanOrEqual(2);
    expect(ticksOf.filter((n) => n === 3).length).toBe(2 * 128);
    await spots.close();
  });

  it('a frame arriving while the previous tick is unfinished hurries that tick: no cell misses one', async () => {
    const inner = createMemoryBroker({ historyLimit: 10 });
    const spots = new SpotBroker(inner, { log, spreadMs: 400 });
    const ids: number[][] = Array.from({ length: 600 }, () => []);
    for (let i = 0; i < 600; i++) {
      await spots.subscribe(spotChannel({ lat: -60 + i * 0.2, lon: 10, elevation: 0 }), (m) => ids[i]!.push(m.id));
    }
    await inner.publish([frameAt(T)]);
    // Mid-tick (a chunk or two done of five, paced over 400 ms), the next frame.
    await new Promise((r) => setTimeout(r, 120));
    const done = ids.filter((l) => l.length > 0).length;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(600);
    await inner.publish([frameAt(T + 1000)]);
    // The rest of tick 0 goes out at once, before anything of tick 1.
    await new Promise((r) => setImmediate(r));
    await expect.poll(() => ids.filter((l) => l.length > 0).length).toBe(600);
    expect(ids.every((l) => l[0] === T)).toBe(true);
    await expect.poll(() => ids.filter((l) => l.length === 2).length).toBe(600);
    expect(ids.every((l) => l[1] === T + 1000)).toBe(true);
    expect(spots.spotStats().computations).toBe(1200);
    await spots.close();
  });

  it("has spot channels' latest at hand, through the metrics wrapper the server puts around it too", async () => {
    const inner = createMemoryBroker({ historyLimit: 10 });
    const spots = new SpotBroker(inner, { log, spreadMs: 900 });
    const metrics = createMetrics({ node: 'test', defaults: false });
    const spot = spotChannel({ lat: -23.7, lon: 133.88, elevation: 0 });
    for (const b of [spots, metrics.instrument(spots)]) {
      expect(hasLatestAtHand(b) && b.latestAtHand(spot)).toBe(true);
      expect(hasLatestAtHand(b) && b.latestAtHand('london')).toBe(false);
    }
    // A broker without the capability does not gain it from the wrapper.
    expect(hasLatestAtHand(metrics.instrument(inner))).toBe(false);
    await spots.close();
  });
});
