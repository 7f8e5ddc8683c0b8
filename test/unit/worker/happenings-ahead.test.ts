import { describe, expect, it } from 'vitest';
import { SKY_EVENT } from '../../../src/broker/broker.ts';
import { happenings } from '../../../src/sky/happenings.ts';
import { LOCATIONS } from '../../../src/sky/locations.ts';
import { HappeningsAhead } from '../../../src/worker/happenings-ahead.ts';

// The worker's queue of happenings ahead: what a tick takes, ids, the top-up's reach.

const HOUR = 3_600_000;
const START = Date.UTC(2026, 2, 20, 0, 0, 0);
const locations = LOCATIONS.slice(0, 3);

describe('HappeningsAhead', () => {
  it('tops up to the horizon asked, one chunk at least per call, and staggers the first chunks', () => {
    const ahead = new HappeningsAhead({ locations, tickMs: 1000, startMs: START, aheadMs: 12 * HOUR, chunkMs: 6 * HOUR });
    expect(ahead.topUp(START, 0).chunks).toBe(1);
    ahead.topUp(START, Infinity);
    expect(ahead.knownUntil()).toBeGreaterThanOrEqual(START + 12 * HOUR);
    expect(ahead.knownUntil()).toBeLessThan(START + 24 * HOUR);
    expect(ahead.topUp(START, Infinity).chunks).toBe(0);
  });

  it('hands each tick the happenings with ids in (previous tick, tick), the calendar objects, ids off the tick grid', () => {
    const tickMs = 1000;
    const ahead = new HappeningsAhead({ locations, tickMs, startMs: START, aheadMs: 6 * HOUR, chunkMs: 6 * HOUR });
    ahead.topUp(START, Infinity);
    const total = ahead.pending();
    expect(total).toBeGreaterThan(0);
    const got: { i: number; id: number; data: string; tick: number }[] = [];
    // Ticks a minute apart here: what matters is the (previous, tick) window, not the period.
    for (let t = START + 60_000; t <= START + 12 * HOUR; t += 60_000) {
      ahead.takeDue(t).forEach((items, i) => items?.forEach((it) => {
        expect(it.event).toBe(SKY_EVENT);
        expect(it.channel).toBe(locations[i]!.id);
        got.push({ i, id: it.id, data: it.data, tick: t });
      }));
    }
    expect(got.length).toBe(total);
    for (const g of got) {
      expect(g.id % tickMs).not.toBe(0);
      expect(g.id).toBeLessThan(g.tick);
      expect(g.id).toBeGreaterThan(g.tick - 60_000);
    }
    const first = locations[0]!;
    const calendar = happenings(first, START, START + 6 * HOUR).map((h) => JSON.stringify(h));
    expect(got.filter((g) => g.i === 0).map((g) => g.data)).toEqual(calendar);
  });

  it('drops (and counts) happenings whose tick passed before they were computed', () => {
    const ahead = new HappeningsAhead({ locations: locations.slice(0, 1), tickMs: 1000, startMs: START, aheadMs: 6 * HOUR, chunkMs: 6 * HOUR });
    ahead.takeDue(START + 6 * HOUR); // the clock ran on before anything was computed
    ahead.topUp(START, Infinity);
    const n = ahead.pending();
    expect(ahead.takeDue(START + 6 * HOUR + 1000).every((x) => x === undefined)).toBe(true);
    expect(ahead.late).toBe(n);
  });
});

describe('a spread tick', () => {
  it('publishes the due happenings with its first slice, at the tick instant, before every snapshot of the tick', async () => {
    const { createMemoryBroker } = await import('../../../src/broker/memory.ts');
    const { createSkyTick } = await import('../../../src/worker/sky-publisher.ts');
    const { silentLogger } = await import('../../../src/log.ts');
    const inner = createMemoryBroker({ historyLimit: 10 });
    const calls: { at: number; items: { channel: string; id: number; event?: string }[] }[] = [];
    const broker = { ...inner, kind: inner.kind, publish: (items: any) => (calls.push({ at: Date.now(), items }), inner.publish(items)) };
    const locs = LOCATIONS.slice(0, 5);
    // Happenings known from an hour ago: the tick an hour later finds every one of that hour due.
    const tickMs = Math.ceil(Date.now() / 1000) * 1000 + 1000;
    const ahead = new HappeningsAhead({ locations: locs, tickMs: 1000, startMs: tickMs - HOUR, aheadMs: HOUR, chunkMs: HOUR });
    ahead.topUp(tickMs, Infinity);
    const due = ahead.pending();
    const tick = createSkyTick({ broker, locations: locs, log: silentLogger, spreadMs: 400, happenings: ahead, happeningsBudgetMs: 0 });
    await new Promise((r) => setTimeout(r, tickMs - Date.now()));
    const report = await tick(tickMs);
    // 5 snapshots, the happenings, and the tick's geocentric frame (exact spots).
    expect(report).toMatchObject({ slices: 5, published: 5 + (report.events as number) + 1 });
    expect(calls).toHaveLength(5);
    const events = calls.flatMap((c, k) => c.items.filter((i) => i.event).map(() => k));
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(due);
    expect(new Set(events)).toEqual(new Set([0]));
    await inner.close();
  });
});
