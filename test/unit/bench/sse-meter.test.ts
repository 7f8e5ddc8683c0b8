import { expect, it } from 'vitest';
import { SseMeter, isoMillis } from '../../../bench/fanout/sse-meter.ts';
import { Histogram } from '../../../bench/fanout/histogram.ts';

// The load client's parser must see exactly what an EventSource would, however the bytes are cut into reads.

const T = Date.UTC(2026, 10, 22, 1, 29, 19);
const snapshot = (tick: number, publishedAt: number): string =>
  `{"location":{"id":"london","timezone":"Europe/London"},"time":"${new Date(tick).toISOString()}","bodies":[{"name":"sun"}],"publishedAt":${publishedAt}}`;
const events = [
  'retry: 2000\n\n',
  `id: ${T}\nevent: update\ndata: ${snapshot(T, T + 7)}\n\n`,
  ': heartbeat\n\n',
  `id: ${T + 1000}\nevent: update\ndata: ${snapshot(T + 1000, T + 1012)}\n\n`,
];
const chunked = (parts: string[]): string => parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('');

function parse(wire: string, cut: number): { seen: [number, number][]; meter: SseMeter } {
  const seen: [number, number][] = [];
  const meter = new SseMeter((tick, publishedAt) => seen.push([tick, publishedAt]));
  const bytes = Buffer.from(wire);
  // The caller's buffer is reused between reads: overwrite it after each feed to prove nothing is kept by reference.
  const shared = Buffer.alloc(bytes.length);
  for (let i = 0; i < bytes.length; i += cut) {
    const n = bytes.copy(shared, 0, i, Math.min(bytes.length, i + cut));
    meter.feed(shared, 0, n);
    shared.fill(0x7a);
  }
  return { seen, meter };
}

const expected: [number, number][] = [
  [T, T + 7],
  [T + 1000, T + 1012],
];

it('reads ticks and publish instants from a chunked stream cut at every size', () => {
  const head = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n';
  const wire = head + chunked(events);
  for (let cut = 1; cut <= wire.length; cut++) {
    const { seen, meter } = parse(wire, cut);
    expect(seen, `cut ${cut}`).toEqual(expected);
    expect(meter.failure).toBeUndefined();
    expect(meter.others).toBe(2);
  }
});

it('reads a close-delimited stream (nchan, HTTP/1.0 style) and several events per read', () => {
  const wire = `HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nConnection: keep-alive\r\n\r\n: hi\n\n${events.join('')}`;
  for (const cut of [1, 7, 64, wire.length]) expect(parse(wire, cut).seen).toEqual(expected);
});

it('fails a non-200 or non-event-stream answer, and ends on the last chunk', () => {
  expect(parse('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n{}', 5).meter.failure).toBe('HTTP 404');
  expect(parse('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nhi', 5).meter.failure).toMatch(/content-type/);
  const done = parse(`HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(events)}0\r\n\r\n`, 9);
  expect(done.meter.ended).toBe(true);
  expect(done.seen).toEqual(expected);
});

it('isoMillis agrees with Date.parse', () => {
  for (const t of [0, T, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2100, 1, 28, 12, 0, 0, 5)]) {
    expect(isoMillis(Buffer.from(new Date(t).toISOString()), 0)).toBe(t);
  }
  expect(isoMillis(Buffer.from('not a date at all, no...'), 0)).toBe(-1);
});

it('histogram percentiles and merge', () => {
  const a = new Histogram();
  const b = new Histogram();
  for (let i = 1; i <= 100; i++) (i % 2 ? a : b).record(i);
  a.merge(b.toSparse());
  expect(a.count).toBe(100);
  expect(a.percentile(0.5)).toBe(50);
  expect(a.percentile(0.99)).toBe(99);
  expect(a.max).toBe(100);
});
