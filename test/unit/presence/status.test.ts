import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { publishedAtOf } from '../../../src/metrics.ts';
import type { BrokerMessage } from '../../../src/broker/broker.ts';
import { StatusChannel } from '../../../src/presence/status.ts';
import { createMemoryPresence, type NodeReport, type WorkerReport } from '../../../src/presence/store.ts';

// The status channel's aggregation over several nodes' reports in one store: subscribers summed per location across
// nodes, join/leave differences as activity, expired reports dropped, history bounded, frames pushed to clients.

const report = (id: string, over: Partial<NodeReport> = {}): NodeReport => ({
  kind: 'node',
  id,
  startedAt: 1,
  updatedAt: Date.now(),
  ready: true,
  clients: 0,
  statusClients: 0,
  counts: {},
  joins: {},
  leaves: {},
  dispatched: 0,
  fannedOut: 0,
  slowCloses: 0,
  ...over,
});

describe('StatusChannel', () => {
  it('sums subscribers per location across nodes and turns join/leave counters into activity', async () => {
    const store = createMemoryPresence();
    let own = report('a', { clients: 2, counts: { london: 2 }, joins: { london: 2 } });
    const channel = new StatusChannel({ store, nodeId: 'a', intervalMs: 1000, history: 3, ownReport: () => own, log: silentLogger });
    await store.put(report('b', { clients: 1, counts: { london: 1, paris: 0, 'no-such-place': 5 } }), 10_000);
    const pushed: number[] = [];
    channel.add({ push: (id) => pushed.push(id), close: () => {} });

    const first = await channel.refresh();
    expect(first.totals).toMatchObject({ nodes: 2, clients: 3, locations: 1 });
    expect(first.locations).toEqual([{ id: 'london', name: 'London', subscribers: 3, byNode: { a: 2, b: 1 } }]);
    expect(first.activity).toEqual([]);

    await new Promise((r) => setTimeout(r, 5));
    own = report('a', { clients: 1, counts: { london: 1 }, joins: { london: 5 }, leaves: { london: 4 }, dispatched: 10 });
    const second = await channel.refresh();
    expect(second.activity).toEqual([{ at: expect.any(Number), node: 'a', location: 'london', joins: 3, leaves: 4 }]);
    expect(second.nodes.find((n) => n.id === 'a')!.messagesPerSecond).toBeGreaterThan(0);
    expect(pushed).toEqual([first.id, second.id]);
    expect(channel.backlog(first.id).map((f) => f.id)).toEqual([second.id]);

    for (let i = 0; i < 5; i++) await channel.refresh();
    expect(channel.backlog(0)).toHaveLength(3); // STATUS_HISTORY bounds the replay
  });

  it('calls a worker healthy while it ticks, or while its first tick is still within the allowance from its start', async () => {
    const store = createMemoryPresence();
    const channel = new StatusChannel({ store, nodeId: 'a', intervalMs: 1000, history: 5, ownReport: () => report('a'), log: silentLogger });
    const now = Date.now();
    // allowance: tickMs × 3 + intervalMs × 2 = 3500 ms
    const worker = (id: string, over: Partial<WorkerReport>): WorkerReport => ({
      kind: 'worker', id, startedAt: now, updatedAt: now, tickMs: 500, ticks: 0, skipped: 0, failed: 0, lastTickAt: null,
      lastDurationMs: 0, maxDurationMs: 0, brokerReady: true, ...over,
    });
    await store.put(worker('ticking', { ticks: 9, lastTickAt: now - 400 }), 10_000);
    await store.put(worker('starting', {}), 10_000);
    await store.put(worker('stuck-at-start', { startedAt: now - 5000 }), 10_000);
    await store.put(worker('stalled', { startedAt: now - 60_000, ticks: 9, lastTickAt: now - 5000 }), 10_000);
    await store.put(worker('no-broker', { ticks: 9, lastTickAt: now - 400, brokerReady: false }), 10_000);
    const healthy = Object.fromEntries((await channel.refresh()).workers.map((w) => [w.id, w.healthy]));
    expect(healthy).toEqual({ ticking: true, starting: true, 'stuck-at-start': false, stalled: false, 'no-broker': false });
  });

  it('drops a report past its expiry and one withdrawn on stop', async () => {
    const store = createMemoryPresence();
    await store.put(report('gone', { updatedAt: Date.now() - 10_000 }), 1000);
    const channel = new StatusChannel({ store, nodeId: 'a', intervalMs: 1000, history: 5, ownReport: () => report('a'), log: silentLogger });
    expect((await channel.refresh()).nodes.map((n) => n.id)).toEqual(['a']);
    await channel.stop();
    expect(await store.readAll()).toEqual([]);
  });
});

describe('publishedAtOf', () => {
  it('reads publishedAt from the end of a snapshot without parsing it', () => {
    expect(publishedAtOf({ id: 1, data: '{"location":{},"time":"x","bodies":[],"publishedAt":1795318455002}' })).toBe(1795318455002);
    expect(publishedAtOf({ id: 1, data: '{"time":"x"}' })).toBeUndefined();
    // A message carrying its value is read from the value: its text is not needed.
    const unread = { id: 1, value: { publishedAt: 1795318455003 }, get data(): string {
      throw new Error('text read');
    } };
    expect(publishedAtOf(unread)).toBe(1795318455003);
    expect(publishedAtOf({ id: 1, data: '', value: {} } as BrokerMessage)).toBeUndefined();
  });
});
