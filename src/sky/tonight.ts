import { AstroTime, Body, Constellation, Equator, Horizon, Illumination, Observer as EngineObserver } from 'astronomy-engine';
import { ENGINE_BODY } from './bodies.ts';
import { happenings, type Happening, type Twilight } from './happenings.ts';
import { isoString } from './isotime.ts';
import type { BodyName, Observer } from './types.ts';
import { roundTo } from './wire-precision.ts';

// The night's plan for one observer: when the Sun goes and comes back, and for each body whether, when and how it can
// be seen. The night of `date` runs from local solar noon of that date to the next (noon at 12:00 − lon/15 h UTC), so it
// holds one evening and the following morning wherever the observer is. Sun times come from the happenings (same
// definitions as GET /events); the bodies' windows from altitudes sampled every few minutes.

const NIGHT_STEP_MS = 5 * 60_000;
const HOUR = 3_600_000;
/** a body must stand this high to be worth looking for */
export const MIN_ALTITUDE = 10;
/** at most this magnitude a body shows from civil dusk; fainter ones need astronomical darkness */
export const BRIGHT_MAGNITUDE = 1.5;
const DARK_ENOUGH: Record<'bright' | 'faint', { sunBelow: number; from: Twilight }> = {
  bright: { sunBelow: -6, from: 'civil' },
  faint: { sunBelow: -18, from: 'astronomical' },
};
const NIGHT_BODIES: readonly BodyName[] = ['moon', 'mercury', 'venus', 'mars', 'jupiter', 'saturn', 'uranus', 'neptune', 'pluto'];

export type Instrument = 'naked_eye' | 'binoculars' | 'telescope';

export interface TonightBody {
  name: BodyName;
  /** apparent magnitude at the best moment (or at local midnight when there is none) */
  magnitude: number;
  instrument: Instrument;
  visible: boolean;
  /** from when the sky is dark enough for this body */
  darkFrom: Twilight;
  /** at least MIN_ALTITUDE° up while the sky is dark enough; null when never */
  window: { start: string; end: string } | null;
  best: { time: string; az: number; alt: number; constellation: string } | null;
  /** why it cannot be seen tonight (absent when it can) */
  reason?: string;
}

export interface Tonight {
  date: string;
  /** the span considered: local solar noon to the next */
  from: string;
  to: string;
  sun: {
    sunset: string | null;
    sunrise: string | null;
    dusk: Record<Twilight, string | null>;
    dawn: Record<Twilight, string | null>;
  };
  /** `normal`, or why the night is not: `polar_day` (the Sun never sets), `polar_night` (it never rises), `white_night` (never 6° down) */
  night: 'normal' | 'polar_day' | 'polar_night' | 'white_night';
  reason?: string;
  bodies: TonightBody[];
}

export function instrumentFor(magnitude: number): Instrument {
  return magnitude <= 6 ? 'naked_eye' : magnitude <= 9 ? 'binoculars' : 'telescope';
}

/** Local solar noon of `date` (YYYY-MM-DD) at longitude `lon`, epoch ms. */
export function localNoonMs(date: string, lon: number): number {
  return Date.parse(`${date}T12:00:00Z`) - (lon / 15) * HOUR;
}

export function tonight(observer: Observer, date: string): Tonight {
  const fromMs = localNoonMs(date, observer.lon);
  const toMs = fromMs + 24 * HOUR;
  const engine = new EngineObserver(observer.lat, observer.lon, observer.elevation);
  const samples = sampleNight(engine, fromMs, toMs);
  const { night, reason } = nightKind(samples.sunAlt);
  const midnight = fromMs + 12 * HOUR;
  return {
    date,
    from: isoString(Math.round(fromMs)),
    to: isoString(Math.round(toMs)),
    sun: sunTimes(observer, fromMs, toMs),
    night,
    ...(reason ? { reason } : {}),
    bodies: NIGHT_BODIES.map((name, b) => bodyTonight(name, samples.alt[b]!, samples, engine, midnight)),
  };
}

/** The Sun's sunset, sunrise and twilights within [fromMs, toMs). */
function sunTimes(observer: Observer, fromMs: number, toMs: number): Tonight['sun'] {
  const sunEvents = happenings(observer, fromMs, toMs, new Set(['rise', 'set', 'dusk', 'dawn'])).filter((h) => h.body === 'sun');
  const first = (pred: (h: Happening) => boolean): string | null => sunEvents.find(pred)?.time ?? null;
  const sunset = first((h) => h.kind === 'set');
  const twilights = (kind: 'dusk' | 'dawn'): Record<Twilight, string | null> => ({
    civil: first((h) => h.kind === kind && h.twilight === 'civil'),
    nautical: first((h) => h.kind === kind && h.twilight === 'nautical'),
    astronomical: first((h) => h.kind === kind && h.twilight === 'astronomical'),
  });
  const sunrise =
    sunset === null ? first((h) => h.kind === 'rise') : (sunEvents.find((h) => h.kind === 'rise' && h.time > sunset)?.time ?? null);
  return { sunset, sunrise, dusk: twilights('dusk'), dawn: twilights('dawn') };
}

interface NightSamples {
  n: number;
  times: number[];
  /** the Sun's geometric altitude (as twilight is defined) */
  sunAlt: Float64Array;
  /** per NIGHT_BODIES entry, its refracted altitude */
  alt: Float64Array[];
}

/** Samples the night every NIGHT_STEP_MS. */
function sampleNight(engine: EngineObserver, fromMs: number, toMs: number): NightSamples {
  const n = Math.floor((toMs - fromMs) / NIGHT_STEP_MS) + 1;
  const times: number[] = [];
  const sunAlt = new Float64Array(n);
  const alt = NIGHT_BODIES.map(() => new Float64Array(n));
  for (let k = 0; k < n; k++) {
    const ms = fromMs + k * NIGHT_STEP_MS;
    times.push(ms);
    const time = new AstroTime(new Date(ms));
    const s = Equator(Body.Sun, time, engine, true, true);
    sunAlt[k] = Horizon(time, engine, s.ra, s.dec).altitude;
    NIGHT_BODIES.forEach((name, b) => {
      const e = Equator(ENGINE_BODY[name], time, engine, true, true);
      alt[b]![k] = Horizon(time, engine, e.ra, e.dec, 'normal').altitude;
    });
  }
  return { n, times, sunAlt, alt };
}

function nightKind(sunAlt: Float64Array): { night: Tonight['night']; reason: string | undefined } {
  let maxSun = -Infinity;
  let minSun = Infinity;
  for (const a of sunAlt) {
    maxSun = Math.max(maxSun, a);
    minSun = Math.min(minSun, a);
  }
  const night: Tonight['night'] = minSun > -0.833 ? 'polar_day' : maxSun < -0.833 ? 'polar_night' : minSun > -6 ? 'white_night' : 'normal';
  const reason = {
    normal: undefined,
    polar_day: 'polar day: the Sun does not set tonight',
    polar_night: 'polar night: the Sun does not rise',
    white_night: 'white night: the Sun sets but never goes 6° below the horizon, so the sky never gets dark',
  }[night];
  return { night, reason };
}

/** The longest run of samples with the sky dark enough and the body high enough, as [first, last], or null. */
function longestRun(sunAlt: Float64Array, a: Float64Array, n: number, sunBelow: number): [number, number] | null {
  let bestRun: [number, number] | null = null;
  let runStart = -1;
  for (let k = 0; k <= n; k++) {
    const ok = k < n && sunAlt[k]! < sunBelow && a[k]! >= MIN_ALTITUDE;
    if (ok && runStart < 0) runStart = k;
    if (!ok && runStart >= 0) {
      if (!bestRun || k - 1 - runStart > bestRun[1] - bestRun[0]) bestRun = [runStart, k - 1];
      runStart = -1;
    }
  }
  return bestRun;
}

/** Why a body has no window tonight. */
function invisibleReason(sunAlt: Float64Array, a: Float64Array, sunBelow: number): string {
  const everDark = sunAlt.some((s) => s < sunBelow);
  const everHigh = a.some((x) => x >= MIN_ALTITUDE);
  if (!everDark) return `the sky does not get dark enough for it tonight (it needs the Sun ${-sunBelow}° below the horizon)`;
  if (!everHigh) return a.every((x) => x < 0) ? 'it stays below the horizon all night' : `it never climbs ${MIN_ALTITUDE}° above the horizon`;
  return `it is ${MIN_ALTITUDE}° up only while the sky is too bright`;
}

function bodyTonight(name: BodyName, a: Float64Array, samples: NightSamples, engine: EngineObserver, midnight: number): TonightBody {
  const { n, times, sunAlt } = samples;
  const magAt = (ms: number): number => roundTo(Illumination(ENGINE_BODY[name], new AstroTime(new Date(ms))).mag, 2);
  const mag0 = magAt(midnight);
  const dark = mag0 <= BRIGHT_MAGNITUDE ? DARK_ENOUGH.bright : DARK_ENOUGH.faint;
  const bestRun = longestRun(sunAlt, a, n, dark.sunBelow);
  const base = { name, darkFrom: dark.from };
  if (!bestRun) {
    const reason = invisibleReason(sunAlt, a, dark.sunBelow);
    return { ...base, magnitude: mag0, instrument: instrumentFor(mag0), visible: false, window: null, best: null, reason };
  }
  let top = bestRun[0];
  for (let k = bestRun[0]; k <= bestRun[1]; k++) if (a[k]! > a[top]!) top = k;
  const t = times[top]!;
  const time = new AstroTime(new Date(t));
  const e = Equator(ENGINE_BODY[name], time, engine, true, true);
  const h = Horizon(time, engine, e.ra, e.dec, 'normal');
  const eqj = Equator(ENGINE_BODY[name], time, engine, false, true);
  const magnitude = magAt(t);
  return {
    ...base,
    magnitude,
    instrument: instrumentFor(magnitude),
    visible: true,
    window: { start: isoString(times[bestRun[0]]!), end: isoString(times[bestRun[1]]!) },
    best: {
      time: isoString(t),
      az: roundTo(h.azimuth, 2),
      alt: roundTo(h.altitude, 2),
      constellation: Constellation(eqj.ra, eqj.dec).symbol,
    },
  };
}
