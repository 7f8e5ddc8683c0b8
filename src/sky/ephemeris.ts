import {
  Body,
  Constellation,
  Equator,
  Horizon,
  Illumination,
  MakeTime,
  Observer as EngineObserver,
  Refraction as refractionAngle,
  SearchHourAngle,
  SearchRiseSet,
} from 'astronomy-engine';
import { ENGINE_BODY } from './bodies.ts';
import { constellationOf } from './constellation.ts';
import { searchRiseAndSet, searchTransit } from './events.ts';
import { isoString } from './isotime.ts';
import { DECIMALS, roundTo } from './wire.ts';
import { brightness, type Brightness } from './magnitude.ts';
import { ELEVATION_RANGE, LAT_RANGE, LON_RANGE, TIME_RANGE } from './observer.ts';
import { Geo, Obs, Pair, geocentricAt, illuminationAt, makeSite, observerAt, pairAt, type Site } from './topocentric.ts';
import { J2000_MS, MS_PER_DAY, spanFor, type Span } from './track.ts';
import { BODY_NAMES, type BodyName, type BodyPosition, type Observer, type Refraction } from './types.ts';

const DAY_MS = 86_400_000;

// ---- reference path ------------------------------------------------------------------------------

// The straightforward per-observer path: astronomy-engine's own functions, one body at a time.
// It is the reference the fast paths are tested against, and the baseline of bench:sky.
export function computeBodyNaive(
  name: BodyName,
  observer: Observer,
  time: Date,
  refraction: Refraction = 'normal',
): BodyPosition {
  const body = ENGINE_BODY[name];
  const t = MakeTime(time);
  const obs = new EngineObserver(observer.lat, observer.lon, observer.elevation);
  const ofDate = Equator(body, t, obs, true, true);
  const j2000 = Equator(body, t, obs, false, true);
  const hor = Horizon(t, obs, ofDate.ra, ofDate.dec, refraction === 'normal' ? 'normal' : undefined);
  const illum = Illumination(body, t);
  const within = (d: Date | undefined): string | null =>
    d && d.getTime() - time.getTime() <= DAY_MS ? d.toISOString() : null;
  const rise = SearchRiseSet(body, obs, +1, t, 1);
  const set = SearchRiseSet(body, obs, -1, t, 1);
  const transit = SearchHourAngle(body, obs, 0, t, +1);
  return {
    name,
    az: hor.azimuth,
    alt: hor.altitude,
    ra: ofDate.ra,
    dec: ofDate.dec,
    distance: ofDate.dist,
    magnitude: illum.mag,
    phase: illum.phase_fraction,
    constellation: Constellation(j2000.ra, j2000.dec).symbol,
    aboveHorizon: hor.altitude > 0,
    rise: within(rise?.date),
    transit: within(transit.time.date),
    set: within(set?.date),
  };
}

// ---- fast path -----------------------------------------------------------------------------------
//
// Same quantities, same definitions, from the interpolated observer-independent track (track.ts):
// per call only the observer's own geometry and the rise/set/transit root searches on cheap functions.

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

/** Programming-error guard: the HTTP layer validates first (src/sky/observer.ts); this only refuses to guess. */
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

/** The three searches, each from startUt; rise/set look limitDays ahead, transit is always found. */
export function eventTimes(body: Body, site: Site, startUt: number, limitDays = 1): EventTimes {
  const span = spanFor(body, startUt);
  const { rise, set } = searchRiseAndSet(span, site, body, startUt, limitDays);
  return { rise, set, transit: searchTransit(span, site, startUt) };
}

/** ISO string of an event if it is at most a day after ms (computeBodyNaive's rule), else null. */
export function eventIso(ut: number | null, ms: number): string | null {
  if (ut === null) return null;
  const t = msOf(ut);
  return t - ms <= DAY_MS ? isoString(t) : null;
}

/** Magnitude and illuminated fraction at ut, at wire precision: observer-independent (Illumination() is geocentric). */
export function brightnessAt(body: Body, span: Span, ut: number): Brightness {
  illuminationAt(span, ut, ILLUM);
  const b = brightness(body, ILLUM);
  return { magnitude: roundTo(b.magnitude, DECIMALS.magnitude), phase: roundTo(b.phase, DECIMALS.phase) };
}

/** Airless altitude → what computeBodyNaive's Horizon(..., refraction) reports. */
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

/** The one place a BodyPosition's values are set (both paths), numbers at wire precision (wire.ts). */
export function writePosition(
  into: BodyPosition,
  pair: Float64Array,
  refraction: Refraction,
  b: Brightness,
  constellation: string,
  rise: string | null,
  transit: string | null,
  set: string | null,
): BodyPosition {
  const alt = apparentAltitude(pair[Pair.Alt]!, refraction);
  into.az = roundTo(pair[Pair.Az]!, DECIMALS.az);
  into.alt = roundTo(alt, DECIMALS.alt);
  into.ra = roundTo(pair[Pair.Ra]!, DECIMALS.ra);
  into.dec = roundTo(pair[Pair.Dec]!, DECIMALS.dec);
  into.distance = roundTo(pair[Pair.Dist]!, DECIMALS.distance);
  into.magnitude = b.magnitude;
  into.phase = b.phase;
  into.constellation = constellation;
  into.aboveHorizon = alt > 0;
  into.rise = rise;
  into.transit = transit;
  into.set = set;
  return into;
}

const GEO = new Float64Array(Geo.Size);
const OBS = new Float64Array(Obs.Size);
const PAIR = new Float64Array(Pair.Size);
const ILLUM = new Float64Array(7);

function bodyAt(name: BodyName, site: Site, ms: number, refraction: Refraction): BodyPosition {
  const body = engineBody(name);
  const ut = utOf(ms);
  const span = spanFor(body, ut);
  const knot = geocentricAt(span, ut, GEO);
  observerAt(site, GEO, knot, OBS);
  pairAt(GEO, site, OBS, PAIR);
  const ev = eventTimes(body, site, ut);
  return writePosition(
    blankPosition(name),
    PAIR,
    refraction,
    brightnessAt(body, span, ut),
    constellationOf(PAIR[Pair.JX]!, PAIR[Pair.JY]!, PAIR[Pair.JZ]!),
    eventIso(ev.rise, ms),
    eventIso(ev.transit, ms),
    eventIso(ev.set, ms),
  );
}

/** One body for one observer at one instant: the fast on-demand path. */
export function computeBody(
  name: BodyName,
  observer: Observer,
  time: Date,
  refraction: Refraction = 'normal',
): BodyPosition {
  checkObserver(observer);
  const ms = checkTime(time);
  return bodyAt(name, makeSite(observer), ms, refraction);
}

/** All ten bodies, in BODY_NAMES order. */
export function computeAll(observer: Observer, time: Date, refraction: Refraction = 'normal'): BodyPosition[] {
  checkObserver(observer);
  const ms = checkTime(time);
  const site = makeSite(observer);
  const out: BodyPosition[] = [];
  for (const name of BODY_NAMES) out.push(bodyAt(name, site, ms, refraction));
  return out;
}
