import type { Logger } from '../log.ts';
import { frame } from '../hub/frame.ts';
import type { FramedMessage } from '../hub/connection.ts';
import { LOCATIONS, findLocation } from '../sky/locations.ts';
import type { NodeReport, PresenceStore, Report, WorkerReport } from './store.ts';

// The status channel: every STATUS_INTERVAL_MS this node writes its own presence report, reads everyone's (so each node
// reports the whole cluster), builds one status document and pushes it as `event: status` to its local status clients.
// A second kind of channel next to the location channels: its own rate (the interval) and history (STATUS_HISTORY
// events kept for Last-Event-ID, and as many join/leave activity entries). Nothing here runs per message.

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

export interface ClusterStatus {
  id: number;
  time: string;
  reportedBy: string;
  intervalMs: number;
  totals: { nodes: number; clients: number; statusClients: number; locations: number; messagesPerSecond: number; framesPerSecond: number };
  nodes: StatusNode[];
  locations: { id: string; name: string; subscribers: number; byNode: Record<string, number> }[];
  workers: StatusWorker[];
  activity: ActivityEntry[];
}

/** A status client: the same shape the hub hands frames to. */
export interface StatusClient {
  push(id: number, frame: Buffer): void;
  close(reason: 'shutdown', farewell?: Buffer): void;
}

export interface StatusChannelOptions {
  store: PresenceStore;
  nodeId: string;
  intervalMs: number;
  history: number;
  /** this node's report, taken fresh each interval */
  ownReport: () => NodeReport;
  log: Logger;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

export class StatusChannel {
  private readonly clients = new Set<StatusClient>();
  private readonly frames: FramedMessage[] = [];
  private readonly activity: ActivityEntry[] = [];
  private readonly previous = new Map<string, NodeReport>();
  private timer: NodeJS.Timeout | undefined;
  private latest: ClusterStatus | undefined;
  private refreshing: Promise<ClusterStatus> | undefined;
  private lastId = 0;
  private failing = false;

  constructor(private readonly options: StatusChannelOptions) {}

  start(): void {
    const run = (): void => {
      this.refresh().catch(() => {});
    };
    run();
    this.timer = setInterval(run, this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and withdraws this node's report, so the others stop counting it at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.refreshing?.catch(() => {});
    await this.options.store.remove('node', this.options.nodeId).catch(() => {});
  }

  get size(): number {
    return this.clients.size;
  }

  add(client: StatusClient): void {
    this.clients.add(client);
  }

  remove(client: StatusClient): void {
    this.clients.delete(client);
  }

  /** Shutdown: every status client is told to reconnect elsewhere. */
  closeAll(farewell?: Buffer): void {
    for (const c of [...this.clients]) c.close('shutdown', farewell);
  }

  /** The latest status document, building one now if none exists yet. */
  async current(): Promise<ClusterStatus> {
    return this.latest ?? this.refresh();
  }

  /** Status events with id > afterId (resume), or the latest one. */
  backlog(afterId: number | undefined): FramedMessage[] {
    if (afterId === undefined) return this.frames.slice(-1);
    return this.frames.filter((f) => f.id > afterId);
  }

  /** One round: write own report, read all, build, push. One round at a time. */
  refresh(): Promise<ClusterStatus> {
    this.refreshing ??= this.round().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async round(): Promise<ClusterStatus> {
    const { store, intervalMs, log } = this.options;
    const own = this.options.ownReport();
    let reports: Report[];
    try {
      await store.put(own, intervalMs * 3);
      reports = await store.readAll();
      if (this.failing) log.info('presence store reachable again');
      this.failing = false;
    } catch (err) {
      // Redis down: report this node alone rather than nothing, and say so once.
      if (!this.failing) log.warn({ err: (err as Error).message }, 'presence store unreachable; status shows this node only');
      this.failing = true;
      reports = [own];
    }
    if (!reports.some((r) => r.kind === 'node' && r.id === own.id)) reports.push(own);
    const status = this.build(reports);
    this.latest = status;
    const framed = { id: status.id, frame: frame({ id: status.id, event: 'status', data: JSON.stringify(status) }) };
    this.frames.push(framed);
    if (this.frames.length > this.options.history) this.frames.shift();
    for (const c of this.clients) c.push(framed.id, framed.frame);
    return status;
  }

  private build(reports: Report[]): ClusterStatus {
    const now = Date.now();
    // ids increase even if two rounds fall in the same millisecond
    const id = (this.lastId = Math.max(now, this.lastId + 1));
    const nodes: StatusNode[] = [];
    const byLocation = new Map<string, Record<string, number>>();
    const seen = new Set<string>();
    for (const r of reports) {
      if (r.kind !== 'node') continue;
      seen.add(r.id);
      const prev = this.previous.get(r.id);
      const dt = prev ? (r.updatedAt - prev.updatedAt) / 1000 : 0;
      const rate = (a: number, b: number): number => (prev && dt > 0 ? round1(Math.max(0, a - b) / dt) : 0);
      nodes.push({
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
      });
      for (const [loc, n] of Object.entries(r.counts)) {
        if (!findLocation(loc) || !(n > 0)) continue;
        const entry = byLocation.get(loc) ?? {};
        entry[r.id] = n;
        byLocation.set(loc, entry);
      }
      this.recordActivity(r, prev);
      if (!prev || prev.updatedAt !== r.updatedAt) this.previous.set(r.id, r);
    }
    for (const id of [...this.previous.keys()]) if (!seen.has(id)) this.previous.delete(id);
    nodes.sort((a, b) => a.id.localeCompare(b.id));

    const locations = LOCATIONS.filter((l) => byLocation.has(l.id)).map((l) => {
      const byNode = byLocation.get(l.id)!;
      return { id: l.id, name: l.name, subscribers: Object.values(byNode).reduce((a, b) => a + b, 0), byNode };
    });
    locations.sort((a, b) => b.subscribers - a.subscribers || a.id.localeCompare(b.id));

    const workers: StatusWorker[] = reports
      .filter((r): r is WorkerReport => r.kind === 'worker')
      .map((w) => {
        const age = w.lastTickAt === null ? null : now - w.lastTickAt;
        // A worker still on its first tick gets, from its start, the allowance it gets between ticks.
        const sinceTick = age ?? now - w.startedAt;
        return {
          id: w.id,
          healthy: w.brokerReady && sinceTick < w.tickMs * 3 + this.options.intervalMs * 2,
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
      })
      .sort((a, b) => a.id.localeCompare(b.id));

    const sum = (f: (n: StatusNode) => number): number => nodes.reduce((a, n) => a + f(n), 0);
    return {
      id,
      time: new Date(now).toISOString(),
      reportedBy: this.options.nodeId,
      intervalMs: this.options.intervalMs,
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
      activity: [...this.activity].reverse(),
    };
  }

  /** Join/leave counts since this node's previous report, per location, appended to the feed. */
  private recordActivity(r: NodeReport, prev: NodeReport | undefined): void {
    if (!prev || prev.updatedAt === r.updatedAt) return;
    const locs = new Set([...Object.keys(r.joins), ...Object.keys(r.leaves)]);
    for (const location of locs) {
      const joins = (r.joins[location] ?? 0) - (prev.joins[location] ?? 0);
      const leaves = (r.leaves[location] ?? 0) - (prev.leaves[location] ?? 0);
      if (joins <= 0 && leaves <= 0) continue;
      this.activity.push({ at: r.updatedAt, node: r.id, location, joins: Math.max(0, joins), leaves: Math.max(0, leaves) });
    }
    while (this.activity.length > this.options.history) this.activity.shift();
  }
}
