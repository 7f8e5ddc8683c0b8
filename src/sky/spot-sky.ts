import type { Body } from 'astronomy-engine';
import { BODY_NAMES, ENGINE_BODY } from './bodies.ts';
import type { Cell } from './cell.ts';
import { constellationOf } from './constellation.ts';
import { blankPosition, eventTimes, msOf, utOf, writePosition } from './ephemeris.ts';
import type { GeoFrame } from './geo-frame.ts';
import { isoString } from './isotime.ts';
import { Obs, Pair, makeSite, observerAt, pairAt, type Site } from './topocentric.ts';
import type { BodyPosition } from './types.ts';
import { BodiesJsonWriter } from './wire.ts';

// One exact-spot cell turned from a tick's geocentric frame into its ten bodies: per body a subtraction, three dot
// products and the angles (pairAt, the function GET /planets and the grid run), so the result equals GET /planets
// for the cell's observer at the frame's instant. Rise, transit and set are searched once per cell and body and
// again only when one has passed, when the entry is old, or when time goes backwards — the grid's rule (batch.ts):
// an entry searched at t0 looks 1 day + its life ahead, so it stays exact until it expires.
//
// A SpotSky holds only its own cell's state; nothing here is shared between cells or kept at module level.

const DAY_MS = 86_400_000;
/** Longest life of a rise/transit/set entry (the grid's default). */
const EVENT_MAX_AGE_DAYS = 10 / 1440;
const BODIES: readonly Body[] = BODY_NAMES.map((n) => ENGINE_BODY[n]);

interface EventEntry {
  fromMs: number;
  expiresMs: number;
  riseMs: number;
  setMs: number;
  transitMs: number;
  rise: string | null;
  set: string | null;
  transit: string;
}

/** Deterministic spread in [0.5, 1) of an entry's life, so cells opened together do not re-search together. */
function lifeFraction(cellId: string, body: number): number {
  let h = 0x811c9dc5 ^ body;
  for (let i = 0; i < cellId.length; i++) h = Math.imul(h ^ cellId.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return 0.5 + ((h >>> 0) / 2 ** 32) * 0.5;
}

function search(body: Body, site: Site, ms: number, life: number): EventEntry {
  const ut = utOf(ms);
  const ev = eventTimes(body, site, ut, 1 + EVENT_MAX_AGE_DAYS);
  const riseMs = ev.rise === null ? Number.NaN : msOf(ev.rise);
  const setMs = ev.set === null ? Number.NaN : msOf(ev.set);
  const transitMs = msOf(ev.transit);
  return {
    fromMs: ms,
    expiresMs: ms + EVENT_MAX_AGE_DAYS * life * DAY_MS,
    riseMs,
    setMs,
    transitMs,
    rise: ev.rise === null ? null : isoString(riseMs),
    set: ev.set === null ? null : isoString(setMs),
    transit: isoString(transitMs),
  };
}

export interface SpotSkyStats {
  /** rise/transit/set searches run (one per body when due) */
  searches: number;
}

export class SpotSky {
  readonly site: Site;
  private readonly events: (EventEntry | undefined)[] = new Array(BODIES.length);
  private readonly life: Float64Array;
  private readonly bodies: BodyPosition[] = BODY_NAMES.map((n) => blankPosition(n));
  private readonly writer = new BodiesJsonWriter();
  private readonly obs = new Float64Array(Obs.Size);
  private readonly pair = new Float64Array(Pair.Size);
  readonly stats: SpotSkyStats = { searches: 0 };

  constructor(readonly cell: Cell) {
    this.site = makeSite(cell);
    this.life = Float64Array.from(BODIES, (_, b) => lifeFraction(cell.id, b));
  }

  /** The ten bodies at the frame's instant. The array is overwritten by the next call. */
  compute(frame: GeoFrame): readonly BodyPosition[] {
    const { ms, geo, bright, knot, shared } = frame;
    const { site, obs, pair } = this;
    observerAt(site, geo[0]!, knot, obs);
    for (let b = 0; b < BODIES.length; b++) {
      pairAt(geo[b]!, site, obs, pair);
      let e = this.events[b];
      if (e === undefined || ms < e.fromMs || ms > e.expiresMs || e.riseMs <= ms || e.setMs <= ms || e.transitMs <= ms) {
        e = search(BODIES[b]!, site, ms, this.life[b]!);
        this.events[b] = e;
        this.stats.searches++;
      }
      writePosition(
        this.bodies[b]!,
        pair,
        'normal',
        bright[b]!,
        shared[b] ?? constellationOf(pair[Pair.JX]!, pair[Pair.JY]!, pair[Pair.JZ]!),
        e.riseMs - ms <= DAY_MS ? e.rise : null,
        e.transitMs - ms <= DAY_MS ? e.transit : null,
        e.setMs - ms <= DAY_MS ? e.set : null,
      );
    }
    return this.bodies;
  }

  /** compute() as the JSON array a snapshot's `bodies` carries (JSON.stringify's bytes). */
  computeJson(frame: GeoFrame): string {
    return this.writer.write(this.compute(frame), 0);
  }
}
