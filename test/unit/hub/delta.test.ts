import { describe, expect, it } from 'vitest';
import { SKY_EVENT, type Broker, type BrokerMessage, type LatestAtHand, type ValueMessage } from '../../../src/broker/broker.ts';
import { createMemoryBroker } from '../../../src/broker/memory.ts';
import { createApp } from '../../../src/http/app.ts';
import { SseConnection, type Resync } from '../../../src/hub/connection.ts';
import { SnapshotDeltas } from '../../../src/hub/delta.ts';
import { Hub, messageFrame, type HubClient } from '../../../src/hub/hub.ts';
import { silentLogger } from '../../../src/log.ts';
import { FakeSink } from './fake-sink.ts';

// The delta encoder (what a delta carries), the hub (one delta per message for all its delta clients), the connection
// (a delta only on top of its base) and the resume backlog of the delta format.

const T = Date.UTC(2026, 11, 3, 10, 0, 0);
const body = (name: string, over: Record<string, unknown> = {}) => ({
  name, az: 120.1234567, alt: 30.4444444, ra: 12.3456789, dec: -7.1234567, distance: 1.234567891234, magnitude: -1.234,
  phase: 0.5, constellation: 'Vir', aboveHorizon: true, rise: null, transit: '2026-12-03T12:00:00.000Z', set: null, ...over,
});
const message = (n: number, bodies: object[], location: object = { id: 'london' }): BrokerMessage => ({
  id: T + n * 1000,
  data: JSON.stringify({ location, time: new Date(T + n * 1000).toISOString(), bodies, publishedAt: T + n * 1000 + 5 }),
});
const dataOf = (frame: Buffer): unknown => JSON.parse(/^data: (.*)$/m.exec(frame.toString())![1]!);
const eventOf = (frame: Buffer): string => /^event: (.*)$/m.exec(frame.toString())![1]!;

describe('SnapshotDeltas', () => {
  it('sends a field, at full precision, only when what the page shows of it changes', () => {
    const deltas = new SnapshotDeltas();
    const a = message(0, [body('sun'), body('moon')]);
    expect(deltas.next(a, () => messageFrame(a))).toEqual(messageFrame(a)); // no base yet: whole
    const b = message(1, [
      // below the display steps: az/alt 0.01° (0.001 here), ra 0.1 s (0.00001 h), dec 1″ (0.0001°), magnitude 0.1
      body('sun', { az: 120.1244567, alt: 30.4434444, ra: 12.3456799, dec: -7.1234667, magnitude: -1.24, distance: 1.2345678 }),
      // at the display steps, and the slow fields
      body('moon', { az: 120.1284567, ra: 12.3457889, dec: -7.1237567, constellation: 'Lib', set: '2026-12-03T15:00:00.000Z' }),
    ]);
    const out = deltas.next(b, () => messageFrame(b));
    expect(eventOf(out.frame)).toBe('delta');
    expect(out.id).toBe(b.id);
    expect(out.resync).toEqual({ base: a.id, full: messageFrame(b).frame });
    expect(dataOf(out.frame)).toEqual({
      time: new Date(b.id).toISOString(),
      bodies: { moon: { az: 120.1284567, ra: 12.3457889, dec: -7.1237567, constellation: 'Lib', set: '2026-12-03T15:00:00.000Z' } },
    });
    // the compass point beside the azimuth, the chart's 0.1° and the Moon's per cent lit count as shown too
    const c = message(2, [body('sun', { az: 123.7494, alt: 30.4499 }), body('moon', { az: 120.1284567, phase: 0.506 })]);
    deltas.next(c, () => messageFrame(c));
    const d = message(3, [body('sun', { az: 123.7504, alt: 30.4501 }), body('moon', { az: 120.1284567, phase: 0.504 })]);
    expect(dataOf(deltas.next(d, () => messageFrame(d)).frame)).toEqual({
      time: new Date(d.id).toISOString(),
      bodies: { sun: { az: 123.7504, alt: 30.4501 }, moon: { phase: 0.504 } },
    });
  });

  it('sends `time` alone when nothing shown changed, other top-level fields whole when they change, never publishedAt', () => {
    const deltas = new SnapshotDeltas();
    const a = message(0, [body('sun')]);
    deltas.next(a, () => messageFrame(a));
    const b = message(1, [body('sun')]);
    expect(dataOf(deltas.next(b, () => messageFrame(b)).frame)).toEqual({ time: new Date(b.id).toISOString() });
    const c = message(2, [body('sun')], { id: 'london', name: 'London' });
    expect(dataOf(deltas.next(c, () => messageFrame(c)).frame)).toEqual({ time: new Date(c.id).toISOString(), location: { id: 'london', name: 'London' } });
  });

  it('reads a message that carries its value (ValueMessage) from the value, with the same deltas as from the text', () => {
    const location = { id: 'spot', name: 'A spot' };
    const withValue = (m: BrokerMessage): ValueMessage => ({ ...m, value: JSON.parse(m.data) as object });
    const ticks = [
      message(0, [body('sun'), body('moon')], location),
      message(1, [body('sun', { az: 120.2 }), body('moon')], location),
      message(2, [body('sun', { az: 120.2 }), body('moon', { set: '2026-12-03T15:00:00.000Z' })], location),
      message(3, [body('sun', { az: 120.2 }), body('moon')], { ...location, name: 'Renamed' }),
    ];
    const fromText = new SnapshotDeltas();
    const fromValue = new SnapshotDeltas();
    for (const m of ticks) {
      const v = withValue(m);
      // The value is what is read: garbage in the text would otherwise make the whole frame go out.
      const framed = fromValue.next({ ...v, data: 'not json' }, () => messageFrame(m));
      expect(framed.frame.toString()).toBe(fromText.next(m, () => messageFrame(m)).frame.toString());
    }
  });

  it('sends the whole snapshot when the shape changes or the data cannot be read, and a sky event as it is', () => {
    const deltas = new SnapshotDeltas();
    const steps: [BrokerMessage, string][] = [
      [message(0, [body('sun'), body('moon')]), 'update'],
      [message(1, [body('sun')]), 'update'], // a body gone
      [message(2, [body('moon')]), 'update'], // another body
      [message(3, [body('moon', { extra: 1 })]), 'update'], // a field added
      [message(4, [body('moon', { extra: 1 })]), 'delta'],
      [{ id: T + 4500, data: '{"kind":"rise"}', event: SKY_EVENT }, SKY_EVENT],
      [{ id: T + 5000, data: 'not json' }, 'update'],
      [message(6, [body('moon', { extra: 1 })]), 'update'], // its base could not be read
      [message(7, [body('moon'), body('moon')]), 'update'], // two bodies of one name: a delta could not tell them apart
    ];
    for (const [m, event] of steps) {
      const out = deltas.next(m, () => messageFrame(m));
      expect(eventOf(out.frame), String(m.id - T)).toBe(event);
      if (event !== 'delta') expect(out).toEqual(messageFrame(m));
    }
  });
});

/** Records what the hub hands it. */
class Recorder implements HubClient {
  frames: Buffer[] = [];
  push(_id: number, frame: Buffer): void {
    this.frames.push(frame);
  }
  close(): void {}
}

describe('Hub with delta clients', () => {
  it('makes one delta per message for all of a channel’s delta clients; full clients get the updates', async () => {
    const broker = createMemoryBroker({ historyLimit: 10 });
    const hub = new Hub(broker, silentLogger);
    const [full, d1, d2] = [new Recorder(), new Recorder(), new Recorder()];
    await hub.join('london', full);
    await hub.join('london', d1, 'delta');
    await hub.join('london', d2, 'delta');
    for (let n = 0; n < 3; n++) await broker.publish([{ channel: 'london', ...message(n, [body('sun', { az: 120 + n })]) }]);
    await expect.poll(() => d2.frames.length).toBe(3);
    expect(full.frames.map(eventOf)).toEqual(['update', 'update', 'update']);
    expect(d1.frames.map(eventOf)).toEqual(['update', 'delta', 'delta']);
    // the same Buffer for every delta client: made once, not per client
    for (let i = 0; i < 3; i++) expect(d1.frames[i]).toBe(d2.frames[i]);
    expect(hub.stats().clients).toBe(3);
    hub.leave('london', d1);
    hub.leave('london', d2);
    hub.leave('london', full);
    expect(hub.stats().channels).toBe(0);
  });
});

describe('Hub with delta clients alone', () => {
  it('frames a message whole only when asked: not for a delta its clients can apply', async () => {
    const inner = createMemoryBroker({ historyLimit: 10 });
    let feed: ((m: BrokerMessage) => void) | undefined;
    // As the spot broker does: the latest at hand, so the hub keeps no whole frame of its own either.
    const broker: Broker & LatestAtHand = {
      ...inner,
      kind: inner.kind,
      subscribe: async (_channel, handler) => ((feed = handler), () => {}),
      latestAtHand: () => true,
    };
    const hub = new Hub(broker, silentLogger);
    const client = { resyncs: [] as (Resync | undefined)[], push: (_id: number, _f: Buffer, _k?: boolean, r?: Resync) => void client.resyncs.push(r), close() {} };
    await hub.join('spot:1,2,0', client, 'delta');
    let reads = 0;
    // A message carrying its value: its text is read only to frame it whole.
    const counted = (n: number): ValueMessage => {
      const m = message(n, [body('sun', { az: 120 + n })], { id: 'spot' });
      return { id: m.id, value: JSON.parse(m.data) as object, get data() {
        reads++;
        return m.data;
      } };
    };
    feed!(counted(0)); // no base yet: whole
    expect(reads).toBe(1);
    feed!(counted(1));
    feed!(counted(2));
    expect(client.resyncs).toHaveLength(3);
    expect(reads).toBe(1);
    // A client that cannot apply the delta asks for the whole frame: made then, once.
    const resync = client.resyncs[2]!;
    expect(dataOf(resync.full)).toEqual(JSON.parse(message(2, [body('sun', { az: 122 })], { id: 'spot' }).data));
    expect(resync.full).toBe(resync.full);
    expect(reads).toBe(1 + 1);
  });
});

describe('SseConnection with deltas', () => {
  const options = { heartbeatMs: 60_000, stallMs: 60_000, maxBufferedBytes: 1 << 20 };
  const tick = (n: number) => {
    const full = { id: T + n * 1000, frame: Buffer.from(`id: ${T + n * 1000}\nevent: update\ndata: {}\n\n`) };
    return { ...full, delta: Buffer.from(`id: ${full.id}\nevent: delta\ndata: {}\n\n`), resync: { base: full.id - 1000, full: full.frame } };
  };
  const events = (sink: FakeSink) => sink.chunks.map((c) => /^event: (.*)$/m.exec(c)?.[1]);

  it('writes a delta only right after its base: after a snapshot lost to a sky event, the whole tick instead', () => {
    const sink = new FakeSink();
    const conn = new SseConnection(sink, options);
    conn.prime([{ id: tick(0).id, frame: tick(0).frame }]);
    const push = (n: number) => conn.push(tick(n).id, tick(n).delta, false, tick(n).resync);
    push(1); // on top of tick 0: the delta
    sink.full = true;
    push(2); // written, the socket now full
    push(3); // pending…
    conn.push(T + 3500, Buffer.from(`id: ${T + 3500}\nevent: sky-event\ndata: {}\n\n`), true); // …dropped for the event
    sink.drainNow();
    push(4); // its base, tick 3, never reached the client
    push(5);
    expect(events(sink)).toEqual(['update', 'delta', 'delta', 'sky-event', 'update', 'delta']);
  });

  it('does not let the batched fan-out claim a delta it cannot apply: the whole tick goes through the sink instead', () => {
    /** A sink whose socket could take a direct write (descriptor 99) whenever nothing is queued. */
    class DescriptorFakeSink extends FakeSink {
      directFd = () => (this.full ? -1 : 99);
      kernelFd = () => 99;
    }
    const sink = new DescriptorFakeSink();
    const conn = new SseConnection(sink, options);
    conn.prime([{ id: tick(1).id, frame: tick(1).frame }]);
    const claim = (n: number) => conn.claim(tick(n).id, tick(n).delta, false, tick(n).resync);
    expect(claim(3)).toBe(-1); // its base, tick 2, never reached this client
    expect(claim(4)).toBe(99); // on top of tick 3: the hub's batched write sends the delta
    expect(events(sink)).toEqual(['update', 'update']);
  });

  it('writes the whole tick for a delta held while priming whose base is not the backlog’s snapshot', () => {
    const sink = new FakeSink();
    const conn = new SseConnection(sink, options);
    conn.push(tick(3).id, tick(3).delta, false, tick(3).resync); // live while the backlog is read
    conn.push(tick(4).id, tick(4).delta, false, tick(4).resync);
    conn.prime([{ id: tick(1).id, frame: tick(1).frame }]); // the backlog is older than tick 3's base
    expect(events(sink)).toEqual(['update', 'update', 'delta']);
  });
});

describe('GET /stream/:location?format=delta, resumed', () => {
  it('sends the missed sky events and the newest snapshot whole, not every missed snapshot', async () => {
    const broker = createMemoryBroker({ historyLimit: 100 });
    const hub = new Hub(broker, silentLogger);
    const app = createApp({ ready: () => broker.ready(), stream: { hub, heartbeatMs: 60_000 } });
    for (let n = 0; n < 5; n++) {
      await broker.publish([{ channel: 'london', ...message(n, [body('sun', { az: 100 + n })]) }]);
      if (n === 2) await broker.publish([{ channel: 'london', id: T + 2500, data: '{"kind":"rise"}', event: SKY_EVENT }]);
    }
    const res = await app.request(`/stream/london?format=delta&lastEventId=${T + 1000}`);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes(`id: ${T + 4000}\n`)) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect([...text.matchAll(/^id: (\d+)\nevent: (.*)$/gm)].map((m) => [Number(m[1]) - T, m[2]])).toEqual([
      [2500, SKY_EVENT],
      [4000, 'update'],
    ]);
    expect(text).toContain(`data: ${message(4, [body('sun', { az: 104 })]).data}\n`);
  });
});
