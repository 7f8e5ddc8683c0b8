import { SKY_EVENT, type PublishItem } from '../broker/broker.ts';
import { happenings } from '../sky/happenings.ts';
import type { Location } from '../sky/types.ts';

// The grid's happenings, computed ahead so that a tick only takes what falls due.
//
// Each location keeps a queue of its coming happenings, encoded as broker items, and the instant up to which they are
// known (its horizon). topUp() extends the horizons a chunk at a time, the location furthest behind first, for as
// long as the tick's budget allows, so no tick stalls on the searches; takeDue() hands a tick every happening whose
// id is below the tick's instant and above the last tick's, to be published before the tick's snapshot.
//
// Ids: a happening's id is its instant in epoch ms, moved by a millisecond where it would equal a tick instant (a
// snapshot's id) or not be above the location's previous happening, so snapshots and happenings share one rising
// sequence per channel and a client resuming with Last-Event-ID gets both.

export interface HappeningsAheadOptions {
  locations: readonly Location[];
  /** the worker's tick period: happening ids avoid its multiples */
  tickMs: number;
  /** keep each location's happenings known this far ahead of now */
  aheadMs?: number;
  /** one top-up step computes this much of one location's future */
  chunkMs?: number;
  /** the instant from which happenings are wanted (the worker's start) */
  startMs: number;
}

export const DEFAULT_AHEAD_MS = 36 * 3_600_000;
export const DEFAULT_CHUNK_MS = 6 * 3_600_000;

interface Queue {
  items: PublishItem[];
  /** index of the first item not yet taken */
  head: number;
  /** happenings before this instant are in `items` */
  horizonMs: number;
  /** the id given to the newest item */
  lastId: number;
}

export interface TopUpReport {
  chunks: number;
  ms: number;
}

export class HappeningsAhead {
  private readonly queues: Queue[];
  private readonly aheadMs: number;
  private readonly chunkMs: number;
  /** the last tick handed its due happenings: ids at or below it can no longer be published */
  private lastTickMs: number;
  /**
   * Location i's first chunk is a little longer than the others (up to twice), so the horizons are staggered: later
   * top-ups come one location at a time, evenly, instead of the whole grid every chunkMs.
   */
  private readonly firstChunkMs: (i: number) => number;
  /** happenings whose tick had passed before their chunk was computed (only while the grid warms up) */
  late = 0;

  constructor(private readonly options: HappeningsAheadOptions) {
    this.aheadMs = options.aheadMs ?? DEFAULT_AHEAD_MS;
    this.chunkMs = options.chunkMs ?? DEFAULT_CHUNK_MS;
    this.lastTickMs = options.startMs - 1;
    this.queues = options.locations.map(() => ({ items: [], head: 0, horizonMs: options.startMs, lastId: options.startMs - 1 }));
    this.firstChunkMs = (i) => this.chunkMs * (1 + i / Math.max(1, options.locations.length));
  }

  /** The earliest horizon over the grid: every happening before it is known. */
  knownUntil(): number {
    let min = Infinity;
    for (const q of this.queues) min = Math.min(min, q.horizonMs);
    return min;
  }

  /** Extends the horizons that are less than aheadMs past nowMs, one chunk at a time, until budgetMs is spent. */
  topUp(nowMs: number, budgetMs: number): TopUpReport {
    const started = performance.now();
    let chunks = 0;
    const target = nowMs + this.aheadMs;
    do {
      let i = -1;
      for (let k = 0; k < this.queues.length; k++) {
        const h = this.queues[k]!.horizonMs;
        if (h < target && (i < 0 || h < this.queues[i]!.horizonMs)) i = k;
      }
      if (i < 0) break;
      this.computeChunk(i);
      chunks++;
    } while (performance.now() - started < budgetMs);
    return { chunks, ms: performance.now() - started };
  }

  private computeChunk(i: number): void {
    const location = this.options.locations[i]!;
    const q = this.queues[i]!;
    const from = q.horizonMs;
    const to = from + (from === this.options.startMs ? this.firstChunkMs(i) : this.chunkMs);
    const tick = this.options.tickMs;
    for (const h of happenings(location, from, to)) {
      let id = Math.floor(Date.parse(h.time));
      if (id <= q.lastId) id = q.lastId + 1;
      if (id % tick === 0) id = id - 1 > q.lastId ? id - 1 : id + 1;
      q.lastId = id;
      q.items.push({ channel: location.id, id, data: JSON.stringify(h), event: SKY_EVENT });
    }
    q.horizonMs = to;
  }

  /**
   * Per location (by index), the happenings due at the tick `tickMs` (ids in (last tick, tickMs)), removed from the
   * queue; undefined where none. Happenings that fell due at an earlier tick before they were computed are dropped
   * (their ids are below snapshots already published) and counted in `late`.
   */
  takeDue(tickMs: number): (PublishItem[] | undefined)[] {
    const out: (PublishItem[] | undefined)[] = new Array(this.queues.length);
    for (let k = 0; k < this.queues.length; k++) {
      const q = this.queues[k]!;
      let due: PublishItem[] | undefined;
      while (q.head < q.items.length && q.items[q.head]!.id < tickMs) {
        const item = q.items[q.head++]!;
        if (item.id <= this.lastTickMs) this.late++;
        else (due ??= []).push(item);
      }
      if (q.head > 64 && q.head * 2 > q.items.length) {
        q.items = q.items.slice(q.head);
        q.head = 0;
      }
      out[k] = due;
    }
    this.lastTickMs = tickMs;
    return out;
  }

  /** Happenings computed and not yet due, over the grid. */
  pending(): number {
    let n = 0;
    for (const q of this.queues) n += q.items.length - q.head;
    return n;
  }
}
