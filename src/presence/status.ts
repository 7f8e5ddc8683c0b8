import type { Logger } from '../log.ts';
import { frame } from '../hub/frame.ts';
import type { FramedMessage } from '../hub/connection.ts';
import { aggregateStatus, INITIAL_STATUS_STATE, type ClusterStatus, type StatusState } from './cluster-status.ts';
import type { NodeReport, PresenceStore, Report } from './store.ts';

// The status channel: every STATUS_INTERVAL_MS this node writes its own presence report, reads everyone's (so each node
// reports the whole cluster), builds one status document and pushes it as `event: status` to its local status clients.
// A second kind of channel next to the location channels: its own rate (the interval) and history (STATUS_HISTORY
// events kept for Last-Event-ID, and as many join/leave activity entries). Nothing here runs per message.

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

export class StatusChannel {
  private readonly clients = new Set<StatusClient>();
  private readonly frames: FramedMessage[] = [];
  private state: StatusState = INITIAL_STATUS_STATE;
  private timer: NodeJS.Timeout | undefined;
  private latest: ClusterStatus | undefined;
  private refreshing: Promise<ClusterStatus> | undefined;
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
    const { status, state } = aggregateStatus(reports, this.state, {
      now: Date.now(),
      reportedBy: this.options.nodeId,
      intervalMs,
      history: this.options.history,
    });
    this.state = state;
    this.latest = status;
    const framed = { id: status.id, frame: frame({ id: status.id, event: 'status', data: JSON.stringify(status) }) };
    this.frames.push(framed);
    if (this.frames.length > this.options.history) this.frames.shift();
    for (const c of this.clients) c.push(framed.id, framed.frame);
    return status;
  }
}
