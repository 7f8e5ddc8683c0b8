import { pino } from 'pino';
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import type { Broker } from '../../../src/broker/broker.ts';
import { createMemoryBroker } from '../../../src/broker/memory.ts';
import { silentLogger } from '../../../src/log.ts';
import { createSkyGrid } from '../../../src/sky/grid.ts';
import { findLocation } from '../../../src/sky/locations.ts';
import { FRAME_CHANNEL } from '../../../src/spots/channel.ts';
import { createSkyTick, selectLocations } from '../../../src/worker/sky-publisher.ts';

const locations = selectLocations('london,tokyo');
const T = Date.UTC(2026, 2, 20, 12, 0, 0);

it('publishes one snapshot per location with the tick as id, byte-equal to JSON.stringify of the Snapshot', async () => {
  const broker = createMemoryBroker({ historyLimit: 10 });
  const tick = createSkyTick({ broker, locations, log: silentLogger });
  const before = Date.now();
  const report = await tick(T);
  // Two snapshots and the tick's geocentric frame, from which API nodes compute exact spots.
  expect(report).toMatchObject({ locations: 2, published: 3 });
  expect((await broker.latest(FRAME_CHANNEL))?.id).toBe(T);
  const expected = createSkyGrid(locations).compute(new Date(T));
  for (const [i, loc] of locations.entries()) {
    const m = (await broker.latest(loc.id))!;
    expect(m.id).toBe(T);
    const snap = JSON.parse(m.data) as { publishedAt: number };
    expect(snap.publishedAt).toBeGreaterThanOrEqual(before);
    expect(m.data).toBe(
      JSON.stringify({ location: loc, time: new Date(T).toISOString(), bodies: expected[i]!.bodies, publishedAt: snap.publishedAt }),
    );
  }
});

it('selectLocations: the whole grid when unset, the ids given, an error naming unknown ids', () => {
  expect(selectLocations(undefined).length).toBeGreaterThan(100);
  expect(selectLocations('tokyo,london,tokyo')).toEqual([findLocation('tokyo'), findLocation('london')]);
  expect(() => selectLocations('london,atlantis,lemuria')).toThrow(/atlantis, lemuria/);
});

it('skips ticks while the broker is down, says so once per outage, and says when it resumes', async () => {
  const lines: { msg: string }[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).trim().split('\n')) lines.push(JSON.parse(l));
      cb();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const inner = createMemoryBroker({ historyLimit: 10 });
  let up = true;
  const broker: Broker = { ...inner, kind: inner.kind, ready: () => up };
  const tick = createSkyTick({ broker, locations, log });
  await tick(T);
  up = false;
  for (let i = 1; i <= 5; i++) expect(await tick(T + i * 1000)).toEqual({ skipped: true });
  up = true;
  await tick(T + 6000);
  await new Promise((r) => setImmediate(r));
  const msgs = lines.map((l) => l.msg);
  expect(msgs.filter((m) => m.startsWith('cannot publish'))).toHaveLength(1);
  expect(lines.find((l) => l.msg === 'publishing resumed')).toMatchObject({ skippedTicks: 5 });
  expect((await inner.history('london', 0)).map((m) => m.id)).toEqual([T, T + 6000]);
});
