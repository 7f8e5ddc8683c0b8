import { afterEach, expect, it, vi } from 'vitest';
import { SseConnection } from '../../../src/hub/connection.ts';
import { HeartbeatWheel, type Beating } from '../../../src/hub/heartbeat.ts';
import { FakeSink } from './fake-sink.ts';

afterEach(() => {
  vi.useRealTimers();
});

const member = (beats: number[]): Beating & { closed: boolean } => {
  const m = {
    lastWrite: 0,
    heartbeatSlot: -1,
    closed: false,
    beat() {
      beats.push(Date.now());
      m.lastWrite = Date.now();
    },
  };
  return m;
};

it('one timer for any number of connections; an idle one beats within one slot of its due time', () => {
  vi.useFakeTimers({ now: 1_000_000 });
  const wheel = new HeartbeatWheel(1000, 100);
  const beats: number[][] = [];
  const members = Array.from({ length: 500 }, (_, i) => {
    beats.push([]);
    return member(beats[i]!);
  });
  members.forEach((m, i) => {
    vi.advanceTimersByTime(i % 7);
    wheel.add(m);
  });
  expect(vi.getTimerCount()).toBe(1);
  vi.advanceTimersByTime(5000);
  for (const [i, b] of beats.entries()) {
    expect(b.length, `member ${i}`).toBeGreaterThanOrEqual(4);
    const gaps = b.slice(1).map((t, j) => t - b[j]!);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(1000);
      expect(g).toBeLessThan(1100);
    }
  }
  expect(vi.getTimerCount()).toBe(1);
});

it('a write since the last visit postpones the beat (no timer touched per write); removed members never beat', () => {
  vi.useFakeTimers({ now: 2_000_000 });
  const wheel = new HeartbeatWheel(1000, 50);
  const busyBeats: number[] = [];
  const goneBeats: number[] = [];
  const busy = member(busyBeats);
  const gone = member(goneBeats);
  wheel.add(busy);
  wheel.add(gone);
  wheel.remove(gone);
  for (let i = 0; i < 40; i++) {
    vi.advanceTimersByTime(100);
    busy.lastWrite = Date.now(); // what a real message does
  }
  expect(busyBeats).toEqual([]);
  expect(goneBeats).toEqual([]);
  vi.advanceTimersByTime(1100);
  expect(busyBeats).toHaveLength(1);
  expect(wheel.size).toBe(1);
  busy.closed = true;
  wheel.remove(busy);
  vi.advanceTimersByTime(5000);
  expect(busyBeats).toHaveLength(1);
  expect(wheel.size).toBe(0);
});

it('connections sharing a wheel: heartbeats when idle, none while messages flow, none after close', () => {
  vi.useFakeTimers({ now: 3_000_000 });
  const wheel = new HeartbeatWheel(1000);
  const options = { heartbeatMs: 1000, stallMs: 5000, maxBufferedBytes: 1_000_000, heartbeats: wheel };
  const sinks = Array.from({ length: 50 }, () => new FakeSink());
  const conns = sinks.map((s) => new SseConnection(s, options));
  for (const c of conns) c.prime([]);
  expect(vi.getTimerCount()).toBe(1);
  const frame = Buffer.from('id: 1\ndata: x\n\n');
  for (let i = 0; i < 30; i++) {
    vi.advanceTimersByTime(100);
    conns[0]!.push(1000 + i, frame);
  }
  vi.advanceTimersByTime(100); // beats may be up to one slot (1000/60 ms) late
  const hb = (s: FakeSink): number => s.chunks.filter((c) => c === ': heartbeat\n\n').length;
  expect(hb(sinks[0]!)).toBe(0);
  for (const s of sinks.slice(1)) expect(hb(s)).toBe(3);
  for (const c of conns) c.close('shutdown');
  vi.advanceTimersByTime(10_000);
  for (const s of sinks.slice(1)) expect(hb(s)).toBe(3);
  expect(wheel.size).toBe(0);
});
