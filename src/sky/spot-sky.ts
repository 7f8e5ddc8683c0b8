import type { Body } from 'astronomy-engine';
import { BODY_NAMES, ENGINE_BODY } from './bodies.ts';
import type { Cell } from './cell.ts';
import { blankPosition, utOf, writePosition, type PositionCalculator } from './fast-path.ts';
import type { GeoFrame } from './geo-frame.ts';
import { DEFAULT_EVENT_MAX_AGE_MINUTES, freshEvents, searchEvents, type EventEntry } from './grid.ts';
import { ObserverLayout, TopocentricLayout as Topo, makeSite, observerAt, topocentricAt, type Site } from './topocentric.ts';
import { MS_PER_DAY } from './track.ts';
import type { BodyPosition } from './types.ts';

// One exact-spot cell turned from a tick's geocentric frame into its ten bodies: per body a subtraction, three dot
// products and the angles (topocentricAt, the function GET /planets and the grid run), so the result equals
// GET /planets for the cell's observer at the frame's instant. Rise, transit and set are searched once per cell and
// body and again only when one has passed, when the entry is old, or when time goes backwards — the grid's entries
// and rule (grid.ts): an entry searched at t0 looks 1 day + its life ahead, so it stays exact until it expires.
//
// A SpotSky holds only its own cell's state (scratch and serialiser are the caller's, shared by a node's cells);
// nothing is kept at module level.

/** Longest life of a rise/transit/set entry, days (the grid's default). */
const EVENT_MAX_AGE_DAYS = DEFAULT_EVENT_MAX_AGE_MINUTES / 1440;
const BODIES: readonly Body[] = BODY_NAMES.map((n) => ENGINE_BODY[n]);

/** Deterministic spread in [0.5, 1) of an entry's life, so cells opened together do not re-search together. */
function lifeFraction(cellId: string, body: number): number {
  let h = 0x811c9dc5 ^ body;
  for (let i = 0; i < cellId.length; i++) h = Math.imul(h ^ cellId.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return 0.5 + ((h >>> 0) / 2 ** 32) * 0.5;
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
  private readonly obs = new Float64Array(ObserverLayout.Size);
  private readonly topo = new Float64Array(Topo.Size);
  readonly stats: SpotSkyStats = { searches: 0 };

  constructor(readonly cell: Cell) {
    this.site = makeSite(cell);
    this.life = Float64Array.from(BODIES, (_, b) => lifeFraction(cell.id, b));
  }

  /**
   * The ten bodies at the frame's instant, with `calc`'s scratch and searches (one calculator serves every cell of a
   * node, one cell at a time). The array is overwritten by the next call.
   */
  compute(frame: GeoFrame, calc: PositionCalculator): readonly BodyPosition[] {
    const { ms, geo, bright, knot, shared } = frame;
    const { site, obs, topo } = this;
    const ut = utOf(ms);
    observerAt(site, geo[0]!, knot, obs);
    for (let b = 0; b < BODIES.length; b++) {
      topocentricAt(geo[b]!, site, obs, topo);
      let e = freshEvents(this.events[b], ut, ms);
      if (!e) {
        e = searchEvents(calc, BODIES[b]!, site, ut, EVENT_MAX_AGE_DAYS, this.life[b]!);
        this.events[b] = e;
        this.stats.searches++;
      }
      writePosition(
        this.bodies[b]!,
        topo,
        'normal',
        bright[b]!,
        shared[b] ?? calc.constellations.of(topo[Topo.JX]!, topo[Topo.JY]!, topo[Topo.JZ]!),
        e.riseMs - ms <= MS_PER_DAY ? e.rise : null,
        e.transitMs - ms <= MS_PER_DAY ? e.transit : null,
        e.setMs - ms <= MS_PER_DAY ? e.set : null,
      );
    }
    return this.bodies;
  }

}
