import type { Body } from 'astronomy-engine';
import { BODY_NAMES, ENGINE_BODY } from './bodies.ts';
import { BodiesJsonWriter } from './bodies-json.ts';
import { PositionCalculator, blankPosition, checkObserver, checkTime, msOf, utOf, writePosition } from './fast-path.ts';
import { isoString } from './isotime.ts';
import type { Brightness } from './magnitude.ts';
import { GeocentricLayout, ObserverLayout, TopocentricLayout, geocentricAt, makeSite, observerAt, topocentricAt, type Site } from './topocentric.ts';
import { MS_PER_DAY, spanFor } from './track.ts';
import type { BodyName, BodyPosition, Location } from './types.ts';

// The grid path for the worker: every location × every body at one instant.
//
// Work is hoisted to where it belongs: per body per instant the interpolated geocentric state and the
// brightness (geocentric in astronomy-engine too); per location, once, its Earth-fixed geometry, and per
// instant its J2000 position; per pair only a subtraction, three dot products and the angles. These are
// the same functions PositionCalculator.computeBody() runs, so the stream and GET /planets agree to the last bit on
// positions.
//
// Rise/set/transit are cached per location and body. An entry searched from instant t0 looks
// 1 day + MAX_AGE ahead, so until t0 + MAX_AGE it still answers "the next event within a day" exactly
// for any later instant; it is searched again when it is that old, when one of its events has passed,
// or when time goes backwards. Ages are spread per entry (half to all of MAX_AGE) so the re-searches
// do not all land on one tick.

/** Default longest life of an event entry, minutes. */
export const DEFAULT_EVENT_MAX_AGE_MINUTES = 10;
/** Upper bound: the look-ahead must stay inside astronomy-engine's third 0.42-day window (1.26 d). */
const MAX_EVENT_MAX_AGE_MINUTES = 360;

export interface GridOptions {
  /**
   * How long rise/transit/set entries live before they are searched again (entries are exact for
   * their whole life; the age only sets how often the searches run). Default 10, at most 360.
   */
  eventMaxAgeMinutes?: number;
}

export interface LocationSky {
  location: Location;
  bodies: BodyPosition[];
}

export interface SkyGrid {
  /**
   * JSON.stringify(sky.bodies) of the last compute()'s location at `index`, byte for byte, built
   * from per-location caches (bodies-json.ts): several times cheaper than JSON.stringify for a tick.
   */
  bodiesJson(index: number): string;
  /**
   * The whole grid at one instant, in the order of the locations given. The returned objects belong
   * to the computer and are overwritten by the next compute(): serialise or copy them before calling
   * it again.
   */
  compute(time: Date): readonly LocationSky[];
}

/** Rise/transit/set of one observer and body, searched from fromUt (the grid's and an exact spot's cache entry). */
export interface EventEntry {
  fromUt: number;
  expiresUt: number;
  /** epoch ms of the events (NaN: none within the searched window) */
  riseMs: number;
  setMs: number;
  transitMs: number;
  rise: string | null;
  set: string | null;
  transit: string;
}

const BODIES: readonly { name: BodyName; body: Body }[] = BODY_NAMES.map((name) => ({ name, body: ENGINE_BODY[name] }));

/** Deterministic spread in [0.5, 1) of the entry age, so entries created together expire apart. */
function ageFraction(location: number, body: number): number {
  let h = Math.imul(location + 1, 0x9e3779b1) ^ Math.imul(body + 1, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return 0.5 + ((h >>> 0) / 2 ** 32) * 0.5;
}

/** Searches an entry from ut, exact until it expires (after maxAgeDays × ageFrac). */
export function searchEvents(calc: PositionCalculator, body: Body, site: Site, ut: number, maxAgeDays: number, ageFrac: number): EventEntry {
  const ev = calc.eventTimes(body, site, ut, 1 + maxAgeDays);
  const riseMs = ev.rise === null ? Number.NaN : msOf(ev.rise);
  const setMs = ev.set === null ? Number.NaN : msOf(ev.set);
  const transitMs = msOf(ev.transit);
  return {
    fromUt: ut,
    expiresUt: ut + maxAgeDays * ageFrac,
    riseMs,
    setMs,
    transitMs,
    rise: ev.rise === null ? null : isoString(riseMs),
    set: ev.set === null ? null : isoString(setMs),
    transit: isoString(transitMs),
  };
}

/** The entry if it still answers at ut (epoch ms `ms`); undefined when it must be searched again (top of this file). */
export function freshEvents(e: EventEntry | undefined, ut: number, ms: number): EventEntry | undefined {
  // NaN (no event in the searched window) never counts as passed.
  const stale = e === undefined || ut < e.fromUt || ut > e.expiresUt || e.riseMs <= ms || e.setMs <= ms || e.transitMs <= ms;
  return stale ? undefined : e;
}

/** The grid computer for these locations (validated: throws RangeError on a bad location or option). */
export function createSkyGrid(locations: readonly Location[], options: GridOptions = {}): SkyGrid {
  for (const l of locations) checkObserver(l);
  const ageMinutes = options.eventMaxAgeMinutes ?? DEFAULT_EVENT_MAX_AGE_MINUTES;
  if (!(ageMinutes > 0 && ageMinutes <= MAX_EVENT_MAX_AGE_MINUTES)) {
    throw new RangeError(`eventMaxAgeMinutes must be in (0, ${MAX_EVENT_MAX_AGE_MINUTES}], got ${ageMinutes}`);
  }
  return new Grid(locations, ageMinutes / 1440);
}

const NB = BODIES.length;

class Grid implements SkyGrid {
  private readonly calc = new PositionCalculator();
  private readonly writer = new BodiesJsonWriter();
  private readonly sites: readonly Site[];
  private readonly events: (EventEntry | undefined)[];
  private readonly ageFrac: Float64Array;
  /** Per body per tick: geocentric state, brightness, and the constellation when it is the same from every location, else null. */
  private readonly geo = BODIES.map(() => new Float64Array(GeocentricLayout.Size));
  private readonly bright: Brightness[] = new Array(NB);
  private readonly sharedConstellation: (string | null)[] = new Array(NB);
  /** Farthest any location is from the Earth's centre (AU): bounds the parallax between locations. */
  private readonly reach: number;
  private readonly obs = new Float64Array(ObserverLayout.Size);
  private readonly topo = new Float64Array(TopocentricLayout.Size);
  // The result objects are made once and overwritten by every compute(): a 1000-location tick would
  // otherwise allocate ~10^4 objects that live just long enough to be promoted, and the old-space
  // collections that follow cost more than the tick itself.
  private readonly out: LocationSky[];

  constructor(
    private readonly locations: readonly Location[],
    private readonly maxAgeDays: number,
  ) {
    this.sites = locations.map((l) => makeSite(l));
    this.events = new Array(locations.length * NB);
    this.ageFrac = Float64Array.from({ length: locations.length * NB }, (_, i) => ageFraction(Math.floor(i / NB), i % NB));
    this.reach = this.sites.reduce((m, s) => Math.max(m, Math.hypot(s.px, s.py, s.pz)), 0) * 1.001;
    this.out = locations.map((location) => ({ location, bodies: BODIES.map(({ name }) => blankPosition(name)) }));
  }

  bodiesJson(index: number): string {
    const sky = this.out[index];
    if (sky === undefined) throw new RangeError(`no grid location at index ${index}`);
    return this.writer.write(sky.bodies, index);
  }

  compute(time: Date): readonly LocationSky[] {
    const ms = checkTime(time);
    const ut = utOf(ms);
    const knot = this.computeBodies(ut);
    for (let l = 0; l < this.locations.length; l++) this.computeLocation(l, knot, ut, ms);
    return this.out;
  }

  /** Everything per body at ut; returns the first body's nearest knot (its EQJ→EQD matrix, for observerAt()). */
  private computeBodies(ut: number): Float64Array {
    let knot: Float64Array | undefined;
    for (let b = 0; b < NB; b++) {
      const { body } = BODIES[b]!;
      const span = spanFor(body, ut);
      const g = this.geo[b]!;
      const k = geocentricAt(span, ut, g, this.calc.scratch);
      knot ??= k;
      this.bright[b] = this.calc.brightnessAt(body, span, ut);
      this.sharedConstellation[b] = this.calc.constellations.within(
        g[GeocentricLayout.JX]!,
        g[GeocentricLayout.JY]!,
        g[GeocentricLayout.JZ]!,
        this.reach,
      );
    }
    return knot!;
  }

  /** Every body from location l, into its result objects. */
  private computeLocation(l: number, knot: Float64Array, ut: number, ms: number): void {
    const site = this.sites[l]!;
    const { obs, topo } = this;
    observerAt(site, this.geo[0]!, knot, obs);
    const bodies = this.out[l]!.bodies;
    for (let b = 0; b < NB; b++) {
      topocentricAt(this.geo[b]!, site, obs, topo);
      const e = this.eventsAt(l * NB + b, BODIES[b]!.body, site, ut, ms);
      writePosition(
        bodies[b]!,
        topo,
        'normal',
        this.bright[b]!,
        this.sharedConstellation[b] ??
          this.calc.constellations.of(topo[TopocentricLayout.JX]!, topo[TopocentricLayout.JY]!, topo[TopocentricLayout.JZ]!),
        e.riseMs - ms <= MS_PER_DAY ? e.rise : null,
        e.transitMs - ms <= MS_PER_DAY ? e.transit : null,
        e.setMs - ms <= MS_PER_DAY ? e.set : null,
      );
    }
  }

  /** The slot's event entry, searched again when it is stale (see the top of this file). */
  private eventsAt(slot: number, body: Body, site: Site, ut: number, ms: number): EventEntry {
    const e = freshEvents(this.events[slot], ut, ms);
    if (e) return e;
    const fresh = searchEvents(this.calc, body, site, ut, this.maxAgeDays, this.ageFrac[slot]!);
    this.events[slot] = fresh;
    return fresh;
  }
}
