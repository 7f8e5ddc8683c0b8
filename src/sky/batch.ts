import type { Body } from 'astronomy-engine';
import { BODY_NAMES, ENGINE_BODY } from './bodies.ts';
import { constellationOf, constellationWithin } from './constellation.ts';
import { blankPosition, brightnessAt, checkObserver, checkTime, eventTimes, msOf, utOf, writePosition } from './ephemeris.ts';
import { isoString } from './isotime.ts';
import type { Brightness } from './magnitude.ts';
import { Geo, Obs, Pair, geocentricAt, makeSite, observerAt, pairAt, type Site } from './topocentric.ts';
import { spanFor } from './track.ts';
import { BodiesJsonWriter } from './wire.ts';
import type { BodyName, BodyPosition, Location } from './types.ts';

// The grid path for the worker: every location × every body at one instant.
//
// Work is hoisted to where it belongs: per body per instant the interpolated geocentric state and the
// brightness (geocentric in astronomy-engine too); per location, once, its Earth-fixed geometry, and per
// instant its J2000 position; per pair only a subtraction, three dot products and the angles. These are
// the same functions computeBody() runs, so the stream and GET /planets agree to the last bit on
// positions.
//
// Rise/set/transit are cached per location and body. An entry searched from instant t0 looks
// 1 day + MAX_AGE ahead, so until t0 + MAX_AGE it still answers "the next event within a day" exactly
// for any later instant; it is searched again when it is that old, when one of its events has passed,
// or when time goes backwards. Ages are spread per entry (half to all of MAX_AGE) so the re-searches
// do not all land on one tick.

const DAY_MS = 86_400_000;
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

export interface GridComputer {
  /**
   * JSON.stringify(sky.bodies) of the last compute()'s location at `index`, byte for byte, built
   * from per-location caches (see wire.ts): several times cheaper than JSON.stringify for a tick.
   */
  bodiesJson(index: number): string;
  /**
   * The whole grid at one instant, in the order of the locations given. The returned objects belong
   * to the computer and are overwritten by the next compute(): serialise or copy them before calling
   * it again.
   */
  compute(time: Date): readonly LocationSky[];
}

interface EventEntry {
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

function searchEvents(body: Body, site: Site, ut: number, maxAgeDays: number, ageFrac: number): EventEntry {
  const ev = eventTimes(body, site, ut, 1 + maxAgeDays);
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

export function createGridComputer(locations: readonly Location[], options: GridOptions = {}): GridComputer {
  for (const l of locations) checkObserver(l);
  const ageMinutes = options.eventMaxAgeMinutes ?? DEFAULT_EVENT_MAX_AGE_MINUTES;
  if (!(ageMinutes > 0 && ageMinutes <= MAX_EVENT_MAX_AGE_MINUTES)) {
    throw new RangeError(`eventMaxAgeMinutes must be in (0, ${MAX_EVENT_MAX_AGE_MINUTES}], got ${ageMinutes}`);
  }
  const maxAgeDays = ageMinutes / 1440;
  const sites = locations.map((l) => makeSite(l));
  const nb = BODIES.length;
  const events: (EventEntry | undefined)[] = new Array(locations.length * nb);
  const ageFrac = Float64Array.from({ length: locations.length * nb }, (_, i) => ageFraction(Math.floor(i / nb), i % nb));
  const geo = BODIES.map(() => new Float64Array(Geo.Size));
  const bright: Brightness[] = new Array(nb);
  // Per body per tick: the constellation when it is the same from every location, else null.
  const sharedConstellation: (string | null)[] = new Array(nb);
  // Farthest any location is from the Earth's centre (AU): bounds the parallax between locations.
  const reach = sites.reduce((m, s) => Math.max(m, Math.hypot(s.px, s.py, s.pz)), 0) * 1.001;
  const obs = new Float64Array(Obs.Size);
  const pair = new Float64Array(Pair.Size);
  // The result objects are made once and overwritten by every compute(): a 1000-location tick would
  // otherwise allocate ~10^4 objects that live just long enough to be promoted, and the old-space
  // collections that follow cost more than the tick itself.
  const out: LocationSky[] = locations.map((location) => ({ location, bodies: BODIES.map(({ name }) => blankPosition(name)) }));

  const writer = new BodiesJsonWriter();

  return {
    bodiesJson(index) {
      const sky = out[index];
      if (sky === undefined) throw new RangeError(`no grid location at index ${index}`);
      return writer.write(sky.bodies, index);
    },
    compute(time) {
      const ms = checkTime(time);
      const ut = utOf(ms);
      let knot: Float64Array | undefined;
      for (let b = 0; b < nb; b++) {
        const span = spanFor(BODIES[b]!.body, ut);
        const k = geocentricAt(span, ut, geo[b]!);
        knot ??= k;
        bright[b] = brightnessAt(BODIES[b]!.body, span, ut);
        const g = geo[b]!;
        sharedConstellation[b] = constellationWithin(g[Geo.JX]!, g[Geo.JY]!, g[Geo.JZ]!, reach);
      }
      for (let l = 0; l < locations.length; l++) {
        const site = sites[l]!;
        observerAt(site, geo[0]!, knot!, obs);
        const bodies = out[l]!.bodies;
        for (let b = 0; b < nb; b++) {
          const { body } = BODIES[b]!;
          pairAt(geo[b]!, site, obs, pair);
          const slot = l * nb + b;
          let e = events[slot];
          if (
            e === undefined ||
            ut < e.fromUt ||
            ut > e.expiresUt ||
            e.riseMs <= ms ||
            e.setMs <= ms ||
            e.transitMs <= ms
          ) {
            e = searchEvents(body, site, ut, maxAgeDays, ageFrac[slot]!);
            events[slot] = e;
          }
          writePosition(
            bodies[b]!,
            pair,
            'normal',
            bright[b]!,
            sharedConstellation[b] ?? constellationOf(pair[Pair.JX]!, pair[Pair.JY]!, pair[Pair.JZ]!),
            e.riseMs - ms <= DAY_MS ? e.rise : null,
            e.transitMs - ms <= DAY_MS ? e.transit : null,
            e.setMs - ms <= DAY_MS ? e.set : null,
          );
        }
      }
      return out;
    },
  };
}
