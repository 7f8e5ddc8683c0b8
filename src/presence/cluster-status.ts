import { LOCATIONS, findLocation } from '../sky/locations.ts';
import type { NodeReport, Report, WorkerReport } from './store.ts';

// The status document, built from everyone's presence reports: pure functions of the reports, this node's previous
// view of each node (for rates and join/leave differences) and the instant. The status channel (status.ts) holds the
// state between rounds and pushes the result.

export interface StatusNode {
  id: string;
  ready: boolean;
  clients: number;
  statusClients: number;
  locations: number;
  startedAt: number;
  updatedAt: number;
  messagesPerSecond: number;
  framesPerSecond: number;
  slowCloses: number;
}

export interface StatusWorker {
  id: string;
  healthy: boolean;
  tickMs: number;
  ticks: number;
  skipped: number;
  failed: number;
  lastTickAt: number | null;
  lastTickAgeMs: number | null;
  lastDurationMs: number;
  maxDurationMs: number;
  brokerReady: boolean;
}

export interface ActivityEntry {
  at: number;
  node: string;
  location: string;
  joins: number;
  leaves: number;
}

export interface StatusLocation {
  id: string;
  name: string;
  subscribers: number;
  byNode: Record<string, number>;
}

export interface ClusterStatus {
  id: number;
  time: string;
  reportedBy: string;
  intervalMs: number;
  totals: { nodes: number; clients: number; statusClients: number; locations: number; messagesPerSecond: number; framesPerSecond: number };
  nodes: StatusNode[];
  locations: StatusLocation[];
  workers: StatusWorker[];
  activity: ActivityEntry[];
}

/** What the status channel carries from one round to the next. */
export interface StatusState {
  /** the last status event's id (ids rise even when two rounds fall in one millisecond) */
  lastId: number;
  /** each node's report as last seen, for rates and join/leave differences */
  previous: ReadonlyMap<string, NodeReport>;
  /** the join/leave feed, oldest first, at most `history` entries */
  activity: readonly ActivityEntry[];
}

export const INITIAL_STATUS_STATE: StatusState = { lastId: 0, previous: new Map(), activity: [] };

export interface StatusRound {
  now: number;
  reportedBy: string;
  intervalMs: number;
  /** activity entries kept */
  history: number;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

/** One node's line: its counts, and its rates since the previous report seen of it. */
function nodeStatus(r: NodeReport, prev: NodeReport | undefined): StatusNode {
  const dt = prev ? (r.updatedAt - prev.updatedAt) / 1000 : 0;
  const rate = (a: number, b: number): number => (prev && dt > 0 ? round1(Math.max(0, a - b) / dt) : 0);
  return {
    id: r.id,
    ready: r.ready,
    clients: r.clients,
    statusClients: r.statusClients,
    locations: Object.keys(r.counts).length,
    startedAt: r.startedAt,
    updatedAt: r.updatedAt,
    messagesPerSecond: rate(r.dispatched, prev?.dispatched ?? 0),
    framesPerSecond: rate(r.fannedOut, prev?.fannedOut ?? 0),
    slowCloses: r.slowCloses,
  };
}

/** A worker's line. Healthy: its broker is up and it ticked recently (a worker still on its first tick gets, from its
 * start, the allowance it gets between ticks). */
function workerStatus(w: WorkerReport, now: number, intervalMs: number): StatusWorker {
  const age = w.lastTickAt === null ? null : now - w.lastTickAt;
  const sinceTick = age ?? now - w.startedAt;
  return {
    id: w.id,
    healthy: w.brokerReady && sinceTick < w.tickMs * 3 + intervalMs * 2,
    tickMs: w.tickMs,
    ticks: w.ticks,
    skipped: w.skipped,
    failed: w.failed,
    lastTickAt: w.lastTickAt,
    lastTickAgeMs: age,
    lastDurationMs: w.lastDurationMs,
    maxDurationMs: w.maxDurationMs,
    brokerReady: w.brokerReady,
  };
}

/** Subscribers per grid location summed over the nodes (unknown ids and zero counts left out), busiest first. */
function locationStatus(nodes: readonly NodeReport[]): StatusLocation[] {
  const byLocation = new Map<string, Record<string, number>>();
  for (const r of nodes) {
    for (const [loc, n] of Object.entries(r.counts)) {
      if (!findLocation(loc) || !(n > 0)) continue;
      const entry = byLocation.get(loc) ?? {};
      entry[r.id] = n;
      byLocation.set(loc, entry);
    }
  }
  const locations = LOCATIONS.filter((l) => byLocation.has(l.id)).map((l) => {
    const byNode = byLocation.get(l.id)!;
    return { id: l.id, name: l.name, subscribers: Object.values(byNode).reduce((a, b) => a + b, 0), byNode };
  });
  return locations.sort((a, b) => b.subscribers - a.subscribers || a.id.localeCompare(b.id));
}

/** Join/leave counts since the node's previous report, per location, as activity entries. */
function activitySince(r: NodeReport, prev: NodeReport | undefined): ActivityEntry[] {
  if (!prev || prev.updatedAt === r.updatedAt) return [];
  const out: ActivityEntry[] = [];
  for (const location of new Set([...Object.keys(r.joins), ...Object.keys(r.leaves)])) {
    const joins = (r.joins[location] ?? 0) - (prev.joins[location] ?? 0);
    const leaves = (r.leaves[location] ?? 0) - (prev.leaves[location] ?? 0);
    if (joins <= 0 && leaves <= 0) continue;
    out.push({ at: r.updatedAt, node: r.id, location, joins: Math.max(0, joins), leaves: Math.max(0, leaves) });
  }
  return out;
}

/** The reports kept for the next round: each node still reporting, at its newest report. */
function nextPrevious(nodes: readonly NodeReport[], previous: ReadonlyMap<string, NodeReport>): Map<string, NodeReport> {
  const next = new Map<string, NodeReport>();
  for (const r of nodes) {
    const prev = previous.get(r.id);
    next.set(r.id, prev && prev.updatedAt === r.updatedAt ? prev : r);
  }
  return next;
}

/** One round: the status document of `reports`, and the state the next round starts from. */
export function aggregateStatus(
  reports: readonly Report[],
  state: StatusState,
  round: StatusRound,
): { status: ClusterStatus; state: StatusState } {
  const nodeReports = reports.filter((r): r is NodeReport => r.kind === 'node');
  const nodes = nodeReports.map((r) => nodeStatus(r, state.previous.get(r.id))).sort((a, b) => a.id.localeCompare(b.id));
  const locations = locationStatus(nodeReports);
  const workers = reports
    .filter((r): r is WorkerReport => r.kind === 'worker')
    .map((w) => workerStatus(w, round.now, round.intervalMs))
    .sort((a, b) => a.id.localeCompare(b.id));
  const activity = [...state.activity, ...nodeReports.flatMap((r) => activitySince(r, state.previous.get(r.id)))].slice(
    -round.history,
  );
  const id = Math.max(round.now, state.lastId + 1);
  const sum = (f: (n: StatusNode) => number): number => nodes.reduce((a, n) => a + f(n), 0);
  const status: ClusterStatus = {
    id,
    time: new Date(round.now).toISOString(),
    reportedBy: round.reportedBy,
    intervalMs: round.intervalMs,
    totals: {
      nodes: nodes.length,
      clients: sum((n) => n.clients),
      statusClients: sum((n) => n.statusClients),
      locations: locations.length,
      messagesPerSecond: round1(sum((n) => n.messagesPerSecond)),
      framesPerSecond: round1(sum((n) => n.framesPerSecond)),
    },
    nodes,
    locations,
    workers,
    activity: [...activity].reverse(),
  };
  return { status, state: { lastId: id, previous: nextPrevious(nodeReports, state.previous), activity } };
}
