import { type Body, Refraction as refractionAngle } from 'astronomy-engine';
import { ENGINE_BODY } from './bodies.ts';
import { ConstellationLookup } from './constellation.ts';
import { EventSearch } from './event-search.ts';
import { isoString } from './isotime.ts';
import { brightness, type Brightness } from './magnitude.ts';
import { ELEVATION_RANGE, LAT_RANGE, LON_RANGE, TIME_RANGE } from './ranges.ts';
import {
  GeocentricLayout,
  ObserverLayout,
  TopocentricLayout,
  geocentricAt,
  illuminationAt,
  makeSite,
  newTopoScratch,
  observerAt,
  topocentricAt,
  type Site,
} from './topocentric.ts';
import { J2000_MS, MS_PER_DAY, spanFor, type Span } from './track.ts';
import { BODY_NAMES, type BodyName, type BodyPosition, type Observer, type Refraction } from './types.ts';
import { DECIMALS, roundTo } from './wire-precision.ts';

// The fast path: the quantities of the reference path (reference-path.ts), same definitions, from the
// interpolated observer-independent track (track.ts): per call only the observer's own geometry and the
// rise/set/transit root searches on cheap functions. A PositionCalculator holds the scratch those need,
// so a caller that keeps one computes without allocating scratch per call; the grid (grid.ts) keeps one.

/** Next events as UT days since J2000 (astronomy-engine's `ut`), or null. */
export interface EventTimes {
  rise: number | null;
  set: number | null;
  transit: number;
}

export function utOf(ms: number): number {
  return (ms - J2000_MS) / MS_PER_DAY;
}

/** The instant astronomy-engine would report for ut (its AstroTime.date: the Date constructor truncates), as epoch ms. */
export function msOf(ut: number): number {
  return Math.trunc(J2000_MS + ut * MS_PER_DAY);
}

function inRange(v: number, r: { min: number; max: number }): boolean {
  return v >= r.min && v <= r.max;
}

/** Programming-error guard: the HTTP layer validates first (src/http/observer.ts); this only refuses to guess. */
export function checkObserver(o: Observer): void {
  if (!inRange(o.lat, LAT_RANGE)) throw new RangeError(`lat must be within -90..90, got ${o.lat}`);
  if (!inRange(o.lon, LON_RANGE)) throw new RangeError(`lon must be within -180..180, got ${o.lon}`);
  if (!inRange(o.elevation, ELEVATION_RANGE)) throw new RangeError(`elevation out of range: ${o.elevation}`);
}

export function checkTime(time: Date): number {
  const ms = time.getTime();
  if (!(ms >= TIME_RANGE.min && ms < TIME_RANGE.max)) throw new RangeError(`time out of the supported range: ${String(time)}`);
  return ms;
}

export function engineBody(name: BodyName): Body {
  const body = ENGINE_BODY[name];
  if (body === undefined) throw new RangeError(`unknown body: ${String(name)}`);
  return body;
}

/** ISO string of an event if it is at most a day after ms (the reference path's rule), else null. */
export function eventIso(ut: number | null, ms: number): string | null {
  if (ut === null) return null;
  const t = msOf(ut);
  return t - ms <= MS_PER_DAY ? isoString(t) : null;
}

/** Airless altitude → what the reference path's Horizon(..., refraction) reports. */
export function apparentAltitude(airless: number, refraction: Refraction): number {
  if (refraction !== 'normal') return airless;
  // Horizon(..., 'normal') works on the zenith distance; do the same arithmetic.
  let zd = 90 - airless;
  zd -= refractionAngle('normal', 90 - zd);
  return 90 - zd;
}

/** A BodyPosition with placeholder values (doubles where numbers go), for writePosition() to fill. */
export function blankPosition(name: BodyName): BodyPosition {
  return {
    name,
    az: Number.NaN,
    alt: Number.NaN,
    ra: Number.NaN,
    dec: Number.NaN,
    distance: Number.NaN,
    magnitude: Number.NaN,
    phase: Number.NaN,
    constellation: '',
    aboveHorizon: false,
    rise: null,
    transit: null,
    set: null,
  };
}

/** The one place the fast path sets a BodyPosition's values (on-demand and grid alike), numbers at wire precision (wire-precision.ts). */
export function writePosition(
  into: BodyPosition,
  topo: Float64Array,
  refraction: Refraction,
  b: Brightness,
  constellation: string,
  rise: string | null,
  transit: string | null,
  set: string | null,
): BodyPosition {
  const alt = apparentAltitude(topo[TopocentricLayout.Alt]!, refraction);
  into.az = roundTo(topo[TopocentricLayout.Az]!, DECIMALS.az);
  into.alt = roundTo(alt, DECIMALS.alt);
  into.ra = roundTo(topo[TopocentricLayout.Ra]!, DECIMALS.ra);
  into.dec = roundTo(topo[TopocentricLayout.Dec]!, DECIMALS.dec);
  into.distance = roundTo(topo[TopocentricLayout.Dist]!, DECIMALS.distance);
  into.magnitude = b.magnitude;
  into.phase = b.phase;
  into.constellation = constellation;
  into.aboveHorizon = alt > 0;
  into.rise = rise;
  into.transit = transit;
  into.set = set;
  return into;
}

/** The fast path's scratch and searches for one caller: reuse one across calls; not for two calls at once. */
export class PositionCalculator {
  readonly events = new EventSearch();
  readonly constellations = new ConstellationLookup();
  /** for geocentricAt() and illuminationAt() */
  readonly scratch = newTopoScratch();
  private readonly geo = new Float64Array(GeocentricLayout.Size);
  private readonly obs = new Float64Array(ObserverLayout.Size);
  private readonly topo = new Float64Array(TopocentricLayout.Size);
  private readonly illum = new Float64Array(7);

  /** The three searches, each from startUt; rise/set look limitDays ahead, transit is always found. */
  eventTimes(body: Body, site: Site, startUt: number, limitDays = 1): EventTimes {
    const span = spanFor(body, startUt);
    const { rise, set } = this.events.riseAndSet(span, site, body, startUt, limitDays);
    return { rise, set, transit: this.events.transit(span, site, startUt) };
  }

  /** Magnitude and illuminated fraction at ut, at wire precision: observer-independent (Illumination() is geocentric). */
  brightnessAt(body: Body, span: Span, ut: number): Brightness {
    illuminationAt(span, ut, this.illum, this.scratch);
    const b = brightness(body, this.illum);
    return { magnitude: roundTo(b.magnitude, DECIMALS.magnitude), phase: roundTo(b.phase, DECIMALS.phase) };
  }

  /** One body for one observer at one instant. */
  computeBody(name: BodyName, observer: Observer, time: Date, refraction: Refraction = 'normal'): BodyPosition {
    checkObserver(observer);
    const ms = checkTime(time);
    return this.bodyAt(name, makeSite(observer), ms, refraction);
  }

  /** All ten bodies, in BODY_NAMES order. */
  computeAll(observer: Observer, time: Date, refraction: Refraction = 'normal'): BodyPosition[] {
    checkObserver(observer);
    const ms = checkTime(time);
    const site = makeSite(observer);
    const out: BodyPosition[] = [];
    for (const name of BODY_NAMES) out.push(this.bodyAt(name, site, ms, refraction));
    return out;
  }

  private bodyAt(name: BodyName, site: Site, ms: number, refraction: Refraction): BodyPosition {
    const body = engineBody(name);
    const ut = utOf(ms);
    const span = spanFor(body, ut);
    const { geo, obs, topo } = this;
    const knot = geocentricAt(span, ut, geo, this.scratch);
    observerAt(site, geo, knot, obs);
    topocentricAt(geo, site, obs, topo);
    const ev = this.eventTimes(body, site, ut);
    return writePosition(
      blankPosition(name),
      topo,
      refraction,
      this.brightnessAt(body, span, ut),
      this.constellations.of(topo[TopocentricLayout.JX]!, topo[TopocentricLayout.JY]!, topo[TopocentricLayout.JZ]!),
      eventIso(ev.rise, ms),
      eventIso(ev.transit, ms),
      eventIso(ev.set, ms),
    );
  }
}

/** PositionCalculator.computeBody for a one-off call (a caller on a hot path keeps its own calculator). */
export function computeBody(name: BodyName, observer: Observer, time: Date, refraction: Refraction = 'normal'): BodyPosition {
  return new PositionCalculator().computeBody(name, observer, time, refraction);
}

/** PositionCalculator.computeAll for a one-off call. */
export function computeAll(observer: Observer, time: Date, refraction: Refraction = 'normal'): BodyPosition[] {
  return new PositionCalculator().computeAll(observer, time, refraction);
}
