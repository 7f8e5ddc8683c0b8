import { afterEach, describe, expect, it, vi } from 'vitest';
import { SseConnection } from '../../../src/hub/connection.ts';
import { frame } from '../../../src/hub/frame.ts';
import { FakeSink } from './fake-sink.ts';

const msg = (id: number) => ({ id, frame: frame({ id, event: 'update', data: `{"n":${id}}` }) });
const options = { heartbeatMs: 15_000, stallMs: 5_000, maxBufferedBytes: 1_000_000 };

describe('SseConnection', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds live messages until primed, then writes backlog then live, in order, without duplicates', () => {
    const sink = new FakeSink();
    const conn = new SseConnection(sink, options);
    conn.push(3, msg(3).frame); // arrives during the history read…
    conn.push(4, msg(4).frame);
    expect(sink.ids()).toEqual([]);
    conn.prime([msg(2), msg(3)]); // …and is also in the history
    expect(sink.ids()).toEqual([2, 3, 4]);
    conn.push(4, msg(4).frame);
    conn.push(1, msg(1).frame);
    conn.push(5, msg(5).frame);
    expect(sink.ids()).toEqual([2, 3, 4, 5]);
  });

  it('conflates while the client is not draining: only the newest is sent when it drains', () => {
    const sink = new FakeSink();
    const conn = new SseConnection(sink, options);
    conn.prime([]);
    sink.full = true;
    conn.push(1, msg(1).frame); // written, but the socket reports full
    conn.push(2, msg(2).frame);
    conn.push(3, msg(3).frame);
    conn.push(4, msg(4).frame);
    expect(sink.ids()).toEqual([1]);
    sink.drainNow();
    expect(sink.ids()).toEqual([1, 4]);
    expect(conn.conflated).toBe(2);
    conn.push(5, msg(5).frame);
    expect(sink.ids()).toEqual([1, 4, 5]);
  });

  it('never conflates a sky event: each one is written even while the client is not draining', () => {
    const sink = new FakeSink();
    const conn = new SseConnection(sink, options);
    const event = (id: number) => frame({ id, event: 'sky-event', data: `{"kind":"rise","n":${id}}` });
    conn.prime([]);
    sink.full = true;
    conn.push(1000, msg(1000).frame); // written, but the socket reports full
    conn.push(1400, event(1400), true);
    conn.push(2000, msg(2000).frame); // pending
    conn.push(2300, event(2300), true); // supersedes the older pending snapshot
    conn.push(2600, event(2600), true);
    conn.push(3000, msg(3000).frame); // pending
    conn.push(4000, msg(4000).frame); // replaces it
    expect(sink.ids()).toEqual([1000, 1400, 2300, 2600]);
    sink.drainNow();
    expect(sink.ids()).toEqual([1000, 1400, 2300, 2600, 4000]);
    expect(sink.chunks.filter((c) => c.includes('event: sky-event'))).toHaveLength(3);
  });

  it('a sky event held while priming is kept too', () => {
    const sink = new FakeSink();
    const conn = new SseConnection(sink, options);
    sink.full = true;
    conn.push(1400, frame({ id: 1400, event: 'sky-event', data: '{}' }), true);
    conn.push(2000, msg(2000).frame);
    conn.prime([msg(1000)]);
    expect(sink.ids()).toEqual([1000, 1400]);
    sink.drainNow();
    expect(sink.ids()).toEqual([1000, 1400, 2000]);
  });

  it('closes a client that does not drain within stallMs as slow_client, once', () => {
    vi.useFakeTimers();
    const sink = new FakeSink();
    const conn = new SseConnection(sink, options);
    const reasons: string[] = [];
    conn.onClose((r) => reasons.push(r));
    conn.prime([]);
    sink.full = true;
    conn.push(1, msg(1).frame);
    vi.advanceTimersByTime(options.stallMs - 1);
    expect(conn.closed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(conn.closed).toBe(true);
    expect(conn.closeReason).toBe('slow_client');
    expect(sink.destroyed).toBe(true);
    conn.close('shutdown');
    expect(reasons).toEqual(['slow_client']);
  });

  it('a drain in time cancels the stall timer', () => {
    vi.useFakeTimers();
    const sink = new FakeSink();
    const conn = new SseConnection(sink, options);
    conn.prime([]);
    sink.full = true;
    conn.push(1, msg(1).frame);
    vi.advanceTimersByTime(options.stallMs - 100);
    sink.drainNow();
    vi.advanceTimersByTime(options.stallMs * 2);
    expect(conn.closed).toBe(false);
  });

  it('closes a client whose buffered bytes exceed the cap', () => {
    const sink = new FakeSink();
    const conn = new SseConnection(sink, { ...options, maxBufferedBytes: 100 });
    conn.prime([]);
    sink.full = true;
    conn.push(1, frame({ id: 1, data: 'x'.repeat(200) }));
    conn.push(2, msg(2).frame);
    expect(conn.closeReason).toBe('slow_client');
  });

  it('a resume backlog larger than the cap is not held against the client', () => {
    const sink = new FakeSink();
    const conn = new SseConnection(sink, { ...options, maxBufferedBytes: 100 });
    sink.full = true;
    const backlog = [1, 2, 3].map((id) => ({ id, frame: frame({ id, data: 'x'.repeat(200) }) }));
    conn.prime(backlog);
    conn.push(4, msg(4).frame);
    expect(conn.closed).toBe(false);
    expect(sink.ids()).toEqual([1, 2, 3]);
    sink.drainNow();
    expect(sink.ids()).toEqual([1, 2, 3, 4]);
  });

  it('sends heartbeats when idle; real messages reset the timer', () => {
    vi.useFakeTimers();
    const sink = new FakeSink();
    const conn = new SseConnection(sink, { ...options, heartbeatMs: 1000 });
    conn.prime([]);
    vi.advanceTimersByTime(999);
    expect(sink.chunks).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sink.chunks).toEqual([': heartbeat\n\n']);
    vi.advanceTimersByTime(600);
    conn.push(1, msg(1).frame);
    vi.advanceTimersByTime(999);
    expect(sink.chunks.filter((c) => c.startsWith(':'))).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sink.chunks.filter((c) => c.startsWith(':'))).toHaveLength(2);
    conn.close('shutdown');
    vi.advanceTimersByTime(10_000);
    expect(sink.chunks.filter((c) => c.startsWith(':'))).toHaveLength(2);
  });

  it('close is idempotent, writes the farewell, ends the sink and reports the first reason', () => {
    const sink = new FakeSink();
    const conn = new SseConnection(sink, options);
    const reasons: string[] = [];
    conn.onClose((r) => reasons.push(r));
    conn.close('shutdown', frame({ comment: 'bye' }));
    conn.close('error');
    expect(sink.chunks).toEqual([': bye\n\n']);
    expect(sink.ended).toBe(true);
    expect(reasons).toEqual(['shutdown']);
    conn.push(1, msg(1).frame);
    expect(sink.ids()).toEqual([]);
    const late: string[] = [];
    conn.onClose((r) => late.push(r));
    expect(late).toEqual(['shutdown']);
  });

  it('a peer that goes away closes the connection as client_gone', () => {
    const sink = new FakeSink();
    const conn = new SseConnection(sink, options);
    sink.fireClose();
    expect(conn.closeReason).toBe('client_gone');
  });
});
