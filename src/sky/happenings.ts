import {
  AngleBetween,
  AstroTime,
  Body,
  Equator,
  Horizon,
  NextLocalSolarEclipse,
  NextLunarEclipse,
  NextMoonQuarter,
  Observer as EngineObserver,
  SearchAltitude,
  SearchGlobalSolarEclipse,
  SearchLocalSolarEclipse,
  SearchLunarEclipse,
  SearchMaxElongation,
  SearchMoonQuarter,
  SearchRelativeLongitude,
  type EclipseEvent,
  type Vector,
} from 'astronomy-engine';
import { ENGINE_BODY } from './bodies.ts';
import { EventSearch } from './event-search.ts';
import { msOf, utOf } from './fast-path.ts';
import { isoString } from './isotime.ts';
import { makeSite, type Site } from './topocentric.ts';
import { MS_PER_DAY, spanFor } from './track.ts';
import { BODY_NAMES, type BodyName, type Observer } from './types.ts';
import { roundTo } from './wire-precision.ts';

// Happenings: the moments a sky watcher waits for, for one observer over one span, sorted by time.
// Rise, set and transit run the very searches the snapshots run (event-search.ts on the interpolated track), so a
// happening and the snapshot's `rise`/`set`/`transit` name the same instant. Everything else uses
// astronomy-engine's own searches (SearchAltitude, SearchMoonQuarter, SearchLunarEclipse, SearchLocalSolarEclipse,
// SearchRelativeLongitude, SearchMaxElongation); only close approaches have no engine search and are found here by
// sampling the topocentric separation of each pair and polishing its minima.

export const HAPPENING_KINDS = [
  'rise', 'set', 'transit', 'dusk', 'dawn', 'phase', 'eclipse', 'opposition', 'conjunction', 'elongation', 'approach',
] as const;
export type HappeningKind = (typeof HAPPENING_KINDS)[number];

export const TWILIGHTS = { civil: -6, nautical: -12, astronomical: -18 } as const;
export type Twilight = keyof typeof TWILIGHTS;
export const PHASE_NAMES = ['new', 'first_quarter', 'full', 'last_quarter'] as const;
export type PhaseName = (typeof PHASE_NAMES)[number];

/** One happening as the calendar and the stream carry it (plain JSON). Times are ISO-8601 UTC. */
export interface Happening {
  kind: HappeningKind;
  time: string;
  body?: BodyName;
  /** approach: the two bodies */
  bodies?: [BodyName, BodyName];
  /** degrees from north through east, of `body` (or the first of `bodies`) at `time`, refraction included */
  az: number;
  /** degrees above the horizon, same */
  alt: number;
  twilight?: Twilight;
  phase?: PhaseName;
  eclipse?: 'lunar' | 'solar';
  /** eclipse: penumbral | partial | annular | total; conjunction of Mercury/Venus: inferior | superior */
  type?: string;
  /** eclipse contact times present for its type, ISO-8601 UTC */
  contacts?: Record<string, string>;
  /** lunar eclipse: the Moon above this observer's horizon at greatest eclipse */
  visible?: boolean;
  /** solar eclipse: the fraction of the Sun's disc covered at the peak, as seen here */
  obscuration?: number;
  /** elongation: degrees between the body and the Sun */
  elongation?: number;
  /** elongation: `morning` or `evening` sky */
  visibility?: string;
  /** approach: degrees between the two bodies in this observer's sky */
  separation?: number;
}

const DAY = MS_PER_DAY;
/** A body rises, sets or culminates at most once per this many days, with room to spare. */
const NEXT_AFTER_DAYS = 0.001;
const PLANETS: readonly BodyName[] = ['mercury', 'venus', 'mars', 'jupiter', 'saturn', 'uranus', 'neptune', 'pluto'];
const INNER = new Set<BodyName>(['mercury', 'venus']);
/** approach: bodies within this many degrees */
export const APPROACH_DEG = 1;
/** approach sampling step: the Moon moves about half a degree an hour, so a 1° pass is never stepped over */
const APPROACH_STEP_MS = 2 * 3_600_000;
/** a sampled minimum below this is polished (a step's worth of Moon motion above APPROACH_DEG) */
const APPROACH_SCREEN_DEG = APPROACH_DEG + 1.5;

const round2 = (x: number): number => roundTo(x, 2);
const iso = (ms: number): string => isoString(Math.trunc(ms));
/**
 * Instants from astronomy-engine's searches, to the whole second: those searches stop at about 0.1 s, so their last
 * digits depend on where a search started, and the calendar and the stream (which search from different starts) must
 * name the same instant. Rise, set and transit are polished to ~1 ms and keep the snapshots' millisecond times.
 */
const toSecond = (ms: number): number => Math.round(ms / 1000) * 1000;
const astroMs = (t: AstroTime): number => toSecond(t.date.getTime());

interface Ctx {
  engine: EngineObserver;
  site: Site;
  events: EventSearch;
  fromMs: number;
  toMs: number;
  out: Happening[];
}

/** az/alt (refracted) of a body at an instant, for this observer. */
function horizontal(ctx: Ctx, name: BodyName, ms: number): { az: number; alt: number } {
  const time = new AstroTime(new Date(ms));
  const eq = Equator(ENGINE_BODY[name], time, ctx.engine, true, true);
  const hor = Horizon(time, ctx.engine, eq.ra, eq.dec, 'normal');
  return { az: round2(hor.azimuth), alt: round2(hor.altitude) };
}

function push(ctx: Ctx, ms: number, kind: HappeningKind, name: BodyName, extra: Partial<Happening> = {}): void {
  if (ms < ctx.fromMs || ms >= ctx.toMs) return;
  ctx.out.push({ kind, time: iso(ms), body: name, ...horizontal(ctx, name, ms), ...extra });
}

function riseSet(ctx: Ctx, name: BodyName, direction: 1 | -1): void {
  const body = ENGINE_BODY[name];
  const toUt = utOf(ctx.toMs);
  let t = utOf(ctx.fromMs);
  while (t < toUt) {
    const r = ctx.events.riseSet(spanFor(body, t), ctx.site, body, direction, t, 1);
    if (r === null) {
      t += 1;
      continue;
    }
    push(ctx, msOf(r), direction > 0 ? 'rise' : 'set', name);
    t = r + NEXT_AFTER_DAYS;
  }
}

function transits(ctx: Ctx, name: BodyName): void {
  const body = ENGINE_BODY[name];
  const toUt = utOf(ctx.toMs);
  let t = utOf(ctx.fromMs);
  while (t < toUt) {
    const r = ctx.events.transit(spanFor(body, t), ctx.site, t);
    push(ctx, msOf(r), 'transit', name);
    // The next culmination is most of a day away (the Moon's ~1.035 d, the others' ~0.997 d).
    t = r + 0.5;
  }
}

function twilights(ctx: Ctx): void {
  for (const [name, altitude] of Object.entries(TWILIGHTS) as [Twilight, number][]) {
    for (const [kind, direction] of [['dusk', -1], ['dawn', +1]] as const) {
      let t = ctx.fromMs;
      while (t < ctx.toMs) {
        const found = SearchAltitude(Body.Sun, ctx.engine, direction, new Date(t), (ctx.toMs - t) / DAY, altitude);
        if (!found) break;
        const ms = astroMs(found);
        push(ctx, ms, kind, 'sun', { twilight: name });
        t = ms + NEXT_AFTER_DAYS * DAY;
      }
    }
  }
}

function phases(ctx: Ctx): void {
  for (let q = SearchMoonQuarter(new Date(ctx.fromMs)); astroMs(q.time) < ctx.toMs; q = NextMoonQuarter(q)) {
    push(ctx, astroMs(q.time), 'phase', 'moon', { phase: PHASE_NAMES[q.quarter]! });
  }
}

/**
 * Whether a Moon quarter (0 new, 2 full) falls within a day of the span. Eclipses happen only then, and the eclipse
 * searches look ahead to the next eclipse, months or (for one place's solar eclipse) years away: most spans the worker
 * asks about are a few hours, and this cheap check spares them those searches.
 */
function quarterNear(ctx: Ctx, quarter: number): boolean {
  for (let q = SearchMoonQuarter(new Date(ctx.fromMs - DAY)); astroMs(q.time) <= ctx.toMs + DAY; q = NextMoonQuarter(q)) {
    if (q.quarter === quarter) return true;
  }
  return false;
}

function lunarEclipses(ctx: Ctx): void {
  if (!quarterNear(ctx, 2)) return;
  for (let e = SearchLunarEclipse(new Date(ctx.fromMs)); astroMs(e.peak) < ctx.toMs; e = NextLunarEclipse(e.peak)) {
    const peak = astroMs(e.peak);
    const minutes = (m: number): string => iso(toSecond(e.peak.date.getTime() + m * 60_000));
    const contacts: Record<string, string> = {
      penumbral_begin: minutes(-e.sd_penum),
      penumbral_end: minutes(e.sd_penum),
    };
    if (e.sd_partial > 0) {
      contacts.partial_begin = minutes(-e.sd_partial);
      contacts.partial_end = minutes(e.sd_partial);
    }
    if (e.sd_total > 0) {
      contacts.total_begin = minutes(-e.sd_total);
      contacts.total_end = minutes(e.sd_total);
    }
    const where = horizontal(ctx, 'moon', peak);
    ctx.out.push({
      kind: 'eclipse', time: iso(peak), body: 'moon', ...where,
      eclipse: 'lunar', type: e.kind, contacts, visible: where.alt > 0, obscuration: roundTo(e.obscuration, 4),
    });
  }
}

function solarEclipses(ctx: Ctx): void {
  const contact = (c: EclipseEvent | undefined): string | undefined => (c ? iso(astroMs(c.time)) : undefined);
  // The next eclipse anywhere first (observer-independent, months at most): seen from here it peaks within hours of it.
  if (!quarterNear(ctx, 0) || astroMs(SearchGlobalSolarEclipse(new Date(ctx.fromMs - DAY)).peak) > ctx.toMs + DAY) return;
  for (
    let e = SearchLocalSolarEclipse(new Date(ctx.fromMs), ctx.engine);
    astroMs(e.peak.time) < ctx.toMs;
    e = NextLocalSolarEclipse(e.peak.time, ctx.engine)
  ) {
    const peak = astroMs(e.peak.time);
    const contacts: Record<string, string> = { partial_begin: contact(e.partial_begin)! };
    if (e.total_begin) contacts[e.kind === 'annular' ? 'annular_begin' : 'total_begin'] = contact(e.total_begin)!;
    if (e.total_end) contacts[e.kind === 'annular' ? 'annular_end' : 'total_end'] = contact(e.total_end)!;
    contacts.partial_end = contact(e.partial_end)!;
    push(ctx, peak, 'eclipse', 'sun', {
      eclipse: 'solar', type: e.kind, contacts, visible: e.peak.altitude > 0, obscuration: roundTo(e.obscuration, 4),
    });
  }
}

function relativeLongitudes(ctx: Ctx, kinds: ReadonlySet<HappeningKind>): void {
  for (const name of PLANETS) {
    const inner = INNER.has(name);
    const targets: [number, HappeningKind, string | undefined][] = inner
      ? [[0, 'conjunction', 'inferior'], [180, 'conjunction', 'superior']]
      : [[0, 'conjunction', undefined], [180, 'opposition', undefined]];
    for (const [lon, kind, type] of targets) {
      if (!kinds.has(kind)) continue;
      let t = ctx.fromMs;
      for (;;) {
        const ms = astroMs(SearchRelativeLongitude(ENGINE_BODY[name], lon, new Date(t)));
        if (ms >= ctx.toMs) break;
        push(ctx, ms, kind, name, type ? { type } : {});
        t = ms + DAY;
      }
    }
  }
}

function elongations(ctx: Ctx): void {
  for (const name of ['mercury', 'venus'] as const) {
    let t = ctx.fromMs;
    for (;;) {
      const e = SearchMaxElongation(ENGINE_BODY[name], new Date(t));
      const ms = astroMs(e.time);
      if (ms >= ctx.toMs) break;
      push(ctx, ms, 'elongation', name, { elongation: round2(e.elongation), visibility: e.visibility });
      t = ms + DAY;
    }
  }
}

const APPROACH_BODIES: readonly BodyName[] = ['moon', ...PLANETS];

function topoVector(ctx: Ctx, name: BodyName, ms: number): Vector {
  return Equator(ENGINE_BODY[name], new AstroTime(new Date(ms)), ctx.engine, true, true).vec;
}

function separation(ctx: Ctx, a: BodyName, b: BodyName, ms: number): number {
  return AngleBetween(topoVector(ctx, a, ms), topoVector(ctx, b, ms));
}

/** Two bodies (the Moon and a planet, or two planets) within APPROACH_DEG, at the moment they are closest. */
function approaches(ctx: Ctx): void {
  const n = APPROACH_BODIES.length;
  const start = ctx.fromMs - APPROACH_STEP_MS;
  const samples = Math.ceil((ctx.toMs - start) / APPROACH_STEP_MS) + 2;
  // Sampled separations, row per pair: the bodies are computed once per sample, not once per pair.
  const pairs: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([i, j]);
  const sep = pairs.map(() => new Float64Array(samples));
  for (let k = 0; k < samples; k++) {
    const ms = start + k * APPROACH_STEP_MS;
    const v = APPROACH_BODIES.map((name) => topoVector(ctx, name, ms));
    pairs.forEach(([i, j], p) => (sep[p]![k] = AngleBetween(v[i]!, v[j]!)));
  }
  pairs.forEach(([i, j], p) => {
    const s = sep[p]!;
    for (let k = 1; k < samples - 1; k++) {
      if (!(s[k]! <= s[k - 1]! && s[k]! < s[k + 1]! && s[k]! < APPROACH_SCREEN_DEG)) continue;
      const a = APPROACH_BODIES[i]!;
      const b = APPROACH_BODIES[j]!;
      const best = closest(ctx, a, b, start + (k - 1) * APPROACH_STEP_MS, start + (k + 1) * APPROACH_STEP_MS);
      if (best.deg > APPROACH_DEG) continue;
      const at = toSecond(best.ms);
      if (at < ctx.fromMs || at >= ctx.toMs) continue;
      ctx.out.push({
        kind: 'approach', time: iso(at), bodies: [a, b], ...horizontal(ctx, a, at), separation: roundTo(best.deg, 3),
      });
    }
  });
}

/** Golden-section search for the minimum separation in [lo, hi] (unimodal there: one sampled minimum), to a second. */
function closest(ctx: Ctx, a: BodyName, b: BodyName, lo: number, hi: number): { ms: number; deg: number } {
  const g = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - g * (hi - lo);
  let x2 = lo + g * (hi - lo);
  let f1 = separation(ctx, a, b, x1);
  let f2 = separation(ctx, a, b, x2);
  while (hi - lo > 1000) {
    if (f1 < f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - g * (hi - lo);
      f1 = separation(ctx, a, b, x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + g * (hi - lo);
      f2 = separation(ctx, a, b, x2);
    }
  }
  return f1 < f2 ? { ms: x1, deg: f1 } : { ms: x2, deg: f2 };
}

const ALL_KINDS: ReadonlySet<HappeningKind> = new Set(HAPPENING_KINDS);
const KIND_ORDER = new Map<HappeningKind, number>(HAPPENING_KINDS.map((k, i) => [k, i]));

/**
 * Every happening of the chosen kinds for `observer` with fromMs ≤ time < toMs, sorted by time (then kind, body).
 * Callers bound the span (see HAPPENING_SPAN_LIMIT_DAYS); the observer and instants are assumed validated.
 */
export function happenings(
  observer: Observer,
  fromMs: number,
  toMs: number,
  kinds: ReadonlySet<HappeningKind> = ALL_KINDS,
): Happening[] {
  if (toMs <= fromMs) return [];
  const ctx: Ctx = {
    engine: new EngineObserver(observer.lat, observer.lon, observer.elevation),
    site: makeSite(observer),
    events: new EventSearch(),
    fromMs,
    toMs,
    out: [],
  };
  for (const name of BODY_NAMES) {
    if (kinds.has('rise')) riseSet(ctx, name, +1);
    if (kinds.has('set')) riseSet(ctx, name, -1);
    if (kinds.has('transit')) transits(ctx, name);
  }
  if (kinds.has('dusk') || kinds.has('dawn')) twilights(ctx);
  if (kinds.has('phase')) phases(ctx);
  if (kinds.has('eclipse')) {
    lunarEclipses(ctx);
    solarEclipses(ctx);
  }
  if (kinds.has('opposition') || kinds.has('conjunction')) relativeLongitudes(ctx, kinds);
  if (kinds.has('elongation')) elongations(ctx);
  if (kinds.has('approach')) approaches(ctx);
  const out = ctx.out.filter((h) => kinds.has(h.kind));
  return out.sort(
    (x, y) =>
      (x.time < y.time ? -1 : x.time > y.time ? 1 : 0) ||
      KIND_ORDER.get(x.kind)! - KIND_ORDER.get(y.kind)! ||
      (x.body ?? x.bodies![0]).localeCompare(y.body ?? y.bodies![0]),
  );
}

/**
 * The longest span, in days, a request may ask of each kind: a year of the rare kinds, a season of twilight, two weeks
 * of the per-body kinds (ten bodies' rise, set and transit, or 36 pairs sampled every two hours). See BENCHMARKS.md.
 */
export const HAPPENING_SPAN_LIMIT_DAYS: Readonly<Record<HappeningKind, number>> = {
  rise: 14, set: 14, transit: 14, approach: 14,
  dusk: 92, dawn: 92,
  phase: 366, eclipse: 366, opposition: 366, conjunction: 366, elongation: 366,
};
