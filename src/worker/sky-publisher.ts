import type { Broker, PublishItem } from '../broker/broker.ts';
import type { Logger } from '../log.ts';
import { PositionCalculator } from '../sky/fast-path.ts';
import { createSkyGrid, type SkyGrid } from '../sky/grid.ts';
import { LOCATIONS, findLocation } from '../sky/locations.ts';
import type { Location } from '../sky/types.ts';
import { frameItem } from '../spots/channel.ts';
import { HappeningsAhead, type TopUpReport } from './happenings-ahead.ts';
import { startTickLoop, type TickLoop, type TickReport } from './tick-loop.ts';

// What the worker does each tick: the whole grid for the tick's instant, one Snapshot per location, published at once
// or spread evenly over part of the tick (spreadMs).
// Used by workers/ephemeris-worker.ts (Redis) and by src/server.ts in the embedded mode (memory broker).

const STARTUP_GRACE_MS = 5000;

export interface SkyPublisherOptions {
  broker: Broker;
  locations: readonly Location[];
  tickMs: number;
  log: Logger;
  /** called after every tick with its duration */
  onTick?: (ms: number, tickMs: number) => void;
  /**
   * Spread a tick's publishes evenly over this many ms after the tick instant, location by location (default 0: all
   * in one round trip at the tick). Every API node fans a message out the moment it arrives: a whole grid published
   * at one instant makes every node pay for all locations at once, so the last clients of the burst wait for all the
   * others. Spread, the same work arrives evenly. Ids stay the tick instant; publishedAt is each slice's own instant.
   */
  spreadMs?: number;
  /**
   * The grid's happenings computed ahead (same locations, same order): each tick publishes those that fell due with its
   * first slice, then (before the next slice) tops the queues up within happeningsBudgetMs. Absent: snapshots only.
   */
  happenings?: HappeningsAhead;
  /** time a tick may spend computing happenings ahead, after its first slice (default 10 ms) */
  happeningsBudgetMs?: number;
}

/** A tick's time for computing happenings ahead: a few chunks, a small share of the shortest tick period. */
const DEFAULT_HAPPENINGS_BUDGET_MS = 10;

/** Slices of a spread tick are at least this far apart (timer resolution; no point in finer). */
const MIN_SLICE_GAP_MS = 2;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** WORKER_LOCATIONS (comma-separated ids) → grid locations; unset → the whole grid. Unknown ids are an error. */
export function selectLocations(ids: string | undefined): readonly Location[] {
  if (!ids) return LOCATIONS;
  const unknown: string[] = [];
  const out: Location[] = [];
  for (const id of new Set(ids.split(','))) {
    const location = findLocation(id);
    if (location) out.push(location);
    else unknown.push(id);
  }
  if (unknown.length > 0) throw new Error(`WORKER_LOCATIONS names unknown grid locations: ${unknown.join(', ')}`);
  return out;
}

/** The tick function alone (no timer), so it can be driven directly. */
export function createSkyTick(options: Omit<SkyPublisherOptions, 'tickMs'>): (tickMs: number) => Promise<TickReport> {
  const tick = new SkyTick(options);
  return (tickMs) => tick.run(tickMs);
}

/** One tick's grid, serialised: the Snapshot JSON of every location but its publishedAt. */
interface ComputedTick {
  n: number;
  /** per location: `{"location":…,"time":…,"bodies":[…]` */
  heads: string[];
  computeMs: number;
  serializeMs: number;
}

/** What the slices of one tick published. */
interface SliceOutcome {
  slices: number;
  count: number;
  lateMs: number;
  events: number;
  topUp: TopUpReport | undefined;
  lastError: Error | undefined;
}

const tenths = (ms: number): number => Math.round(ms * 10) / 10;

/** Warns once when publishing stops working and once when it resumes; quiet during the startup grace. */
class OutageLog {
  private outage: { since: number; skipped: number; reason: string } | undefined;
  private readonly created = Date.now();

  constructor(private readonly log: Logger) {}

  skip(reason: string, publishedBefore: boolean): TickReport {
    // The first connection takes a moment: ticks before it are not an outage worth a warning.
    if (!publishedBefore && Date.now() - this.created < STARTUP_GRACE_MS) {
      this.log.debug({ reason }, 'broker not ready yet; tick skipped');
      return { skipped: true };
    }
    if (!this.outage) {
      this.outage = { since: Date.now(), skipped: 0, reason };
      this.log.warn({ reason }, 'cannot publish; skipping ticks until the broker is back');
    }
    this.outage.skipped++;
    return { skipped: true };
  }

  published(): void {
    if (!this.outage) return;
    this.log.info({ downMs: Date.now() - this.outage.since, skippedTicks: this.outage.skipped }, 'publishing resumed');
    this.outage = undefined;
  }
}

class SkyTick {
  private readonly broker: Broker;
  private readonly log: Logger;
  private readonly spreadMs: number;
  private readonly ahead: HappeningsAhead | undefined;
  private readonly budgetMs: number;
  private readonly grid: SkyGrid;
  /** for the tick's geocentric frame, from which API nodes compute exact spots (docs/exact-spot.md) */
  private readonly frameCalc = new PositionCalculator();
  private readonly channels: string[];
  /** Location JSON never changes: serialised once, not every tick. */
  private readonly locationJson: string[];
  private readonly outages: OutageLog;
  /** ticks that published something */
  private publishedTicks = 0;

  constructor(options: Omit<SkyPublisherOptions, 'tickMs'>) {
    this.broker = options.broker;
    this.log = options.log;
    this.spreadMs = Math.max(0, options.spreadMs ?? 0);
    this.ahead = options.happenings;
    this.budgetMs = options.happeningsBudgetMs ?? DEFAULT_HAPPENINGS_BUDGET_MS;
    this.grid = createSkyGrid(options.locations);
    this.channels = options.locations.map((l) => l.id);
    this.locationJson = options.locations.map((l) => JSON.stringify(l));
    this.outages = new OutageLog(this.log);
  }

  async run(tickMs: number): Promise<TickReport> {
    // No point computing a grid nobody can receive.
    if (!this.broker.ready()) return this.outages.skip('broker not connected', this.publishedTicks > 0);
    const t0 = performance.now();
    const computed = this.compute(tickMs);
    const dueEvents = this.ahead?.takeDue(tickMs);
    const out = await this.publishSlices(tickMs, computed, dueEvents);
    if (out.count === 0 && out.lastError) return this.outages.skip(out.lastError.message, this.publishedTicks > 0);
    this.outages.published();
    const publishMs = performance.now() - t0 - computed.computeMs - computed.serializeMs;
    if (this.publishedTicks++ === 0) {
      this.log.info({ tick: tickMs, locations: out.count, computeMs: Math.round(computed.computeMs) }, 'first snapshots published');
    }
    return {
      locations: computed.n,
      published: out.count,
      computeMs: tenths(computed.computeMs),
      serializeMs: tenths(computed.serializeMs),
      publishMs: tenths(publishMs),
      ...(out.slices > 1 ? { slices: out.slices, lateMs: out.lateMs } : {}),
      ...(this.ahead ? { events: out.events, aheadChunks: out.topUp!.chunks, aheadMs: tenths(out.topUp!.ms) } : {}),
    };
  }

  /** The grid at the tick's instant, and every location's Snapshot JSON up to its publishedAt. */
  private compute(tickMs: number): ComputedTick {
    const t0 = performance.now();
    const time = new Date(tickMs);
    const skies = this.grid.compute(time);
    const t1 = performance.now();
    const head = `,"time":"${time.toISOString()}","bodies":`;
    const heads = skies.map((_, i) => `{"location":${this.locationJson[i]}${head}${this.grid.bodiesJson(i)}`);
    return { n: skies.length, heads, computeMs: t1 - t0, serializeMs: performance.now() - t1 };
  }

  private sliceCount(n: number): number {
    const spreadMs = this.spreadMs;
    return spreadMs > 0 && n > 1 ? Math.min(n, Math.max(1, Math.floor(spreadMs / MIN_SLICE_GAP_MS))) : 1;
  }

  /** Publishes the tick slice by slice, each at its slot; happenings due go with the first. */
  private async publishSlices(
    tickMs: number,
    computed: ComputedTick,
    dueEvents: ReturnType<HappeningsAhead['takeDue']> | undefined,
  ): Promise<SliceOutcome> {
    const { n } = computed;
    const slices = this.sliceCount(n);
    const out: SliceOutcome = { slices, count: 0, lateMs: 0, events: 0, topUp: undefined, lastError: undefined };
    for (let k = 0; k < slices; k++) {
      // Slots are fixed relative to the tick instant, so a slow compute shortens the spread instead of stretching it.
      const late = await waitUntil(tickMs + Math.round((k * this.spreadMs) / slices));
      if (k > 0) out.lateMs = Math.max(out.lateMs, late);
      const items: PublishItem[] = [];
      // The tick's geocentric frame goes first: the exact spots are computed from it on the API nodes.
      if (k === 0) items.push(frameItem(tickMs, Date.now(), this.frameCalc));
      // Every due happening goes with the first slice, at the tick instant, whichever slice carries its location's
      // snapshot: its id is below the tick's, so it still comes before that snapshot, and it is not held back by the
      // spread.
      if (k === 0 && dueEvents) out.events = pushDue(items, dueEvents);
      // Same bytes as JSON.stringify({ location, time, bodies, publishedAt }), with the constant parts reused.
      const tail = `,"publishedAt":${Date.now()}}`;
      for (let i = Math.floor((k * n) / slices); i < Math.floor(((k + 1) * n) / slices); i++) {
        items.push({ channel: this.channels[i]!, id: tickMs, data: computed.heads[i] + tail });
      }
      await this.publishSlice(items, out);
      // Happenings ahead are computed after the first slice has gone out, so the searches never delay the tick's
      // happenings or first snapshots: in a spread tick this is the first gap (which the next slot's wait absorbs),
      // rather than after the last slice, near the end of the period. Bounded by budgetMs.
      if (k === 0 && this.ahead) out.topUp = this.ahead.topUp(tickMs, this.budgetMs);
    }
    return out;
  }

  private async publishSlice(items: PublishItem[], out: SliceOutcome): Promise<void> {
    try {
      const result = await this.broker.publish(items);
      out.count += result.published;
      if (result.failed.length > 0) {
        this.log.warn({ failed: result.failed.length, first: result.failed[0] }, 'broker refused some snapshots');
      }
    } catch (err) {
      // One slice failing (say, every location in it lives on a cluster shard that is down) must not cost the
      // rest of the tick: the other slices still go out. Only a tick where nothing went out counts as skipped.
      out.lastError = err as Error;
    }
  }
}

/** Waits until Date.now() reaches `due`; returns how late it already was (0 if it had to wait). */
async function waitUntil(due: number): Promise<number> {
  let wait = due - Date.now();
  if (wait <= 0) return -wait;
  // A timer runs on the loop's cached clock and may fire a millisecond before Date.now() reaches `due`.
  while (wait > 0) {
    await sleep(wait);
    wait = due - Date.now();
  }
  return 0;
}

/** Appends the due happenings of every location to items; returns how many. */
function pushDue(items: PublishItem[], dueEvents: NonNullable<ReturnType<HappeningsAhead['takeDue']>>): number {
  let events = 0;
  for (const its of dueEvents) {
    if (!its) continue;
    items.push(...its);
    events += its.length;
  }
  return events;
}

/** Starts ticking at once; stop() finishes the tick in progress. */
export function startSkyPublisher(options: SkyPublisherOptions): TickLoop {
  const log = options.log.child({ component: 'worker' });
  const happenings =
    options.happenings ?? new HappeningsAhead({ locations: options.locations, tickMs: options.tickMs, startMs: Date.now() });
  return startTickLoop({ periodMs: options.tickMs, tick: createSkyTick({ ...options, happenings, log }), log, onTick: options.onTick });
}
