import type { Broker, PublishItem } from '../broker/broker.ts';
import type { Logger } from '../log.ts';
import { createSkyGrid } from '../sky/grid.ts';
import { LOCATIONS, findLocation } from '../sky/locations.ts';
import type { Location } from '../sky/types.ts';
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
  const { broker, locations } = options;
  const log = options.log;
  const spreadMs = Math.max(0, options.spreadMs ?? 0);
  const ahead = options.happenings;
  const budgetMs = options.happeningsBudgetMs ?? DEFAULT_HAPPENINGS_BUDGET_MS;
  const grid = createSkyGrid(locations);
  // Location JSON never changes: serialise it once, not 100 times a second.
  const locationJson = locations.map((l) => JSON.stringify(l));
  let outage: { since: number; skipped: number; reason: string } | undefined;
  let published = 0;
  const created = Date.now();

  const skip = (reason: string): TickReport => {
    // The first connection takes a moment: ticks before it are not an outage worth a warning.
    if (published === 0 && Date.now() - created < STARTUP_GRACE_MS) {
      log.debug({ reason }, 'broker not ready yet; tick skipped');
      return { skipped: true };
    }
    if (!outage) {
      outage = { since: Date.now(), skipped: 0, reason };
      log.warn({ reason }, 'cannot publish; skipping ticks until the broker is back');
    }
    outage.skipped++;
    return { skipped: true };
  };

  return async (tickMs) => {
    // No point computing a grid nobody can receive.
    if (!broker.ready()) return skip('broker not connected');
    const t0 = performance.now();
    const time = new Date(tickMs);
    const skies = grid.compute(time);
    const t1 = performance.now();
    const head = `,"time":"${time.toISOString()}","bodies":`;
    const bodies = skies.map((_, i) => grid.bodiesJson(i));
    const t1s = performance.now();
    const n = skies.length;
    const dueEvents = ahead?.takeDue(tickMs);
    let events = 0;
    let topUp: TopUpReport | undefined;
    const slices = spreadMs > 0 && n > 1 ? Math.min(n, Math.max(1, Math.floor(spreadMs / MIN_SLICE_GAP_MS))) : 1;
    let count = 0;
    let lateMs = 0;
    let lastError: Error | undefined;
    for (let k = 0; k < slices; k++) {
      // Slots are fixed relative to the tick instant, so a slow compute shortens the spread instead of stretching it.
      const due = tickMs + Math.round((k * spreadMs) / slices);
      let wait = due - Date.now();
      if (wait <= 0 && k > 0) lateMs = Math.max(lateMs, -wait);
      // A timer runs on the loop's cached clock and may fire a millisecond before Date.now() reaches `due`.
      while (wait > 0) {
        await sleep(wait);
        wait = due - Date.now();
      }
      const tail = `,"publishedAt":${Date.now()}}`;
      // Same bytes as JSON.stringify({ location, time, bodies, publishedAt }), with the constant parts reused.
      const items: PublishItem[] = [];
      // Every due happening goes with the first slice, at the tick instant, whichever slice carries its location's
      // snapshot: its id is below the tick's, so it still comes before that snapshot, and it is not held back by the
      // spread.
      if (k === 0 && dueEvents) {
        for (const its of dueEvents) {
          if (!its) continue;
          items.push(...its);
          events += its.length;
        }
      }
      for (let i = Math.floor((k * n) / slices); i < Math.floor(((k + 1) * n) / slices); i++) {
        items.push({ channel: skies[i]!.location.id, id: tickMs, data: `{"location":${locationJson[i]}${head}${bodies[i]}${tail}` });
      }
      try {
        const result = await broker.publish(items);
        count += result.published;
        if (result.failed.length > 0) {
          log.warn({ failed: result.failed.length, first: result.failed[0] }, 'broker refused some snapshots');
        }
      } catch (err) {
        // One slice failing (say, every location in it lives on a cluster shard that is down) must not cost the
        // rest of the tick: the other slices still go out. Only a tick where nothing went out counts as skipped.
        lastError = err as Error;
      }
      // Happenings ahead are computed after the first slice has gone out, so the searches never delay the tick's
      // happenings or first snapshots: in a spread tick this is the first gap (which the next slot's wait absorbs),
      // rather than after the last slice, near the end of the period. Bounded by budgetMs.
      if (k === 0 && ahead) topUp = ahead.topUp(tickMs, budgetMs);
    }
    if (count === 0 && lastError) return skip(lastError.message);
    if (outage) {
      log.info({ downMs: Date.now() - outage.since, skippedTicks: outage.skipped }, 'publishing resumed');
      outage = undefined;
    }
    const t2 = performance.now();
    if (published++ === 0) {
      log.info({ tick: tickMs, locations: count, computeMs: Math.round(t1 - t0) }, 'first snapshots published');
    }
    return {
      locations: skies.length,
      published: count,
      computeMs: Math.round((t1 - t0) * 10) / 10,
      serializeMs: Math.round((t1s - t1) * 10) / 10,
      publishMs: Math.round((t2 - t1s) * 10) / 10,
      ...(slices > 1 ? { slices, lateMs } : {}),
      ...(ahead ? { events, aheadChunks: topUp!.chunks, aheadMs: Math.round(topUp!.ms * 10) / 10 } : {}),
    };
  };
}

/** Starts ticking at once; stop() finishes the tick in progress. */
export function startSkyPublisher(options: SkyPublisherOptions): TickLoop {
  const log = options.log.child({ component: 'worker' });
  const happenings =
    options.happenings ?? new HappeningsAhead({ locations: options.locations, tickMs: options.tickMs, startMs: Date.now() });
  return startTickLoop({ periodMs: options.tickMs, tick: createSkyTick({ ...options, happenings, log }), log, onTick: options.onTick });
}
