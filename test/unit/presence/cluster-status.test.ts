import { describe, expect, it } from 'vitest';
import { aggregateStatus, INITIAL_STATUS_STATE, type StatusState } from '../../../src/presence/cluster-status.ts';
import { nodeReport } from '../../../src/presence/node-report.ts';
import type { NodeReport } from '../../../src/presence/store.ts';
import { PresenceTracker } from '../../../src/presence/tracker.ts';

// The status aggregation and the node's own report are pure: the same inputs give the same document, the state passed
// in is left as it was, and the next round's state carries what rates and activity need.

const node = (id: string, updatedAt: number, over: Partial<NodeReport> = {}): NodeReport => ({
  kind: 'node', id, startedAt: 0, updatedAt, ready: true, clients: 0, statusClients: 0, counts: {}, joins: {}, leaves: {},
  dispatched: 0, fannedOut: 0, slowCloses: 0, ...over,
});

const round = (now: number) => ({ now, reportedBy: 'a', intervalMs: 1000, history: 2 });

describe('aggregateStatus', () => {
  it('is a function of its inputs: same document twice, the state passed in untouched', () => {
    const state: StatusState = { lastId: 5, previous: new Map([['a', node('a', 1000, { dispatched: 10, joins: { london: 1 } })]]), activity: [] };
    const frozen = structuredClone({ ...state, previous: [...state.previous] });
    const reports = [node('a', 3000, { dispatched: 50, joins: { london: 4 }, counts: { london: 3 }, clients: 3 })];
    const first = aggregateStatus(reports, state, round(10_000));
    const second = aggregateStatus(reports, state, round(10_000));
    expect(second).toEqual(first);
    expect({ ...state, previous: [...state.previous] }).toEqual(frozen);
    expect(first.status.nodes[0]!.messagesPerSecond).toBe(20);
    expect(first.status.activity).toEqual([{ at: 3000, node: 'a', location: 'london', joins: 3, leaves: 0 }]);
    expect(first.status.locations).toEqual([{ id: 'london', name: 'London', subscribers: 3, byNode: { a: 3 } }]);
    expect(first.state.previous.get('a')!.updatedAt).toBe(3000);
  });

  it('keeps ids rising within one millisecond, drops nodes that stopped reporting, and bounds the activity feed', () => {
    let state = INITIAL_STATUS_STATE;
    const ids: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const out = aggregateStatus([node('a', i * 1000, { joins: { london: i } }), ...(i < 3 ? [node('b', i * 1000)] : [])], state, round(7000));
      ids.push(out.status.id);
      state = out.state;
    }
    expect(ids).toEqual([7000, 7001, 7002, 7003]);
    expect([...state.previous.keys()]).toEqual(['a']);
    expect(state.activity.map((e) => e.at)).toEqual([3000, 4000]);
  });
});

describe('nodeReport', () => {
  it('counts clients per location, leaving out empty ones, with the tracker and hub counters', () => {
    const tracker = new PresenceTracker();
    tracker.joined('london');
    tracker.joined('london');
    tracker.left('london');
    const report = nodeReport({
      id: 'n1', startedAt: 1, now: 2, ready: true,
      hub: { channels: 1, clients: 2, dispatched: 7, closed: { slow_client: 1 } },
      clientsAt: (location) => (location === 'london' ? 2 : 0),
      tracker, fannedOut: 14,
    });
    expect(report).toEqual({
      kind: 'node', id: 'n1', startedAt: 1, updatedAt: 2, ready: true, clients: 2, statusClients: 0,
      counts: { london: 2 }, joins: { london: 2 }, leaves: { london: 1 }, dispatched: 7, fannedOut: 14, slowCloses: 1,
    });
  });
});
