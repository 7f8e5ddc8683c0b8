import type { HubStats } from '../hub/hub.ts';
import { LOCATIONS } from '../sky/locations.ts';
import type { NodeReport } from './store.ts';
import type { PresenceTracker } from './tracker.ts';

// What one API node says about itself in the presence store, built every STATUS_INTERVAL_MS from counts the hub and
// the stream routes already keep: nothing on the per-message path.

export interface NodeCounts {
  id: string;
  startedAt: number;
  now: number;
  ready: boolean;
  hub: HubStats;
  /** stream clients of one grid location on this node */
  clientsAt: (location: string) => number;
  tracker: PresenceTracker;
  /** frames handed to connections so far */
  fannedOut: number;
}

export function nodeReport(c: NodeCounts): NodeReport {
  const counts: Record<string, number> = {};
  for (const l of LOCATIONS) {
    const n = c.clientsAt(l.id);
    if (n > 0) counts[l.id] = n;
  }
  return {
    kind: 'node',
    id: c.id,
    startedAt: c.startedAt,
    updatedAt: c.now,
    ready: c.ready,
    clients: c.hub.clients,
    statusClients: c.tracker.statusClients,
    counts,
    joins: Object.fromEntries(c.tracker.joins),
    leaves: Object.fromEntries(c.tracker.leaves),
    dispatched: c.hub.dispatched,
    fannedOut: c.fannedOut,
    slowCloses: c.hub.closed.slow_client ?? 0,
  };
}
