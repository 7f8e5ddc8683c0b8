import { hasValue, type BrokerMessage } from '../broker/broker.ts';
import type { FramedMessage } from './connection.ts';
import { frame } from './frame.ts';

// The `delta` stream format (?format=delta, docs/api.md "Stream formats"): per tick, only the fields the page would
// show differently from what delta clients were last sent, as `event: delta`; the whole snapshot as `event: update`
// whenever a client has no picture to apply a delta to. One encoder per channel, fed each snapshot once, whatever the number of clients.
//
// A delta is relative to the channel's previous snapshot (its `base`). It travels with the same tick's full frame,
// and a connection writes the delta only when the last snapshot it wrote was the base, the full frame otherwise
// (hub/connection.ts): a client that missed a tick (conflated while slow, joined late, resumed) gets the whole
// picture instead of a delta it could not apply. Correct by construction, with no state per client beyond the id of
// its last snapshot.

export const STREAM_FORMATS = ['full', 'delta'] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

/** The SSE event name of a delta frame. */
export const DELTA_EVENT = 'delta';

type Key = string | number | boolean | null;

/**
 * The values that look like `v` wherever the page shows it, as an open interval: every value inside it renders the
 * same. Shrunk by a margin far above the rounding error of the arithmetic, so that a value inside it is inside on
 * the page too; empty (NaN bounds) when `v` itself sits on that margin, so that the next value is sent whatever it is.
 */
type Look = (v: number) => readonly [number, number];

const NOTHING = [Number.NaN, Number.NaN] as const;
const MARGIN = 1e-9;

function shrunk(v: number, lo: number, hi: number): readonly [number, number] {
  const m = MARGIN * Math.max(1, Math.abs(v));
  return v > lo + m && v < hi - m ? [lo + m, hi - m] : NOTHING;
}

/** Rounded to each of `steps` (toFixed, Math.round); `signed`: 0, above and below 0 look different even when rounded to 0. */
const rounded =
  (steps: readonly number[], signed = false): Look =>
  (v) => {
    let lo = Number.NEGATIVE_INFINITY;
    let hi = Number.POSITIVE_INFINITY;
    for (const step of steps) {
      const k = Math.round(v / step);
      lo = Math.max(lo, (k - 0.5) * step);
      hi = Math.min(hi, (k + 0.5) * step);
    }
    if (signed) {
      if (v === 0) return NOTHING;
      if (v > 0) lo = Math.max(lo, 0);
      else hi = Math.min(hi, 0);
    }
    return shrunk(v, lo, hi);
  };

/** toPrecision(digits) of a positive number, within its decade. */
const significant =
  (digits: number): Look =>
  (v) => {
    if (!(v > 0) || !Number.isFinite(v)) return NOTHING;
    const e = Math.floor(Math.log10(v));
    const step = 10 ** (e - digits + 1);
    const k = Math.round(v / step);
    return shrunk(v, Math.max((k - 0.5) * step, 10 ** e), Math.min((k + 0.5) * step, 10 ** (e + 1)));
  };

/**
 * What the page shows of each number (web/js/format.js, as table.js and chart.js use it). A delta sends a number, with
 * its full value, only when it leaves the values that look like the one clients were last sent. A field not listed
 * here (a string, or a number new to the snapshot) is sent whenever its value changes.
 */
const LOOKS: Readonly<Record<string, Look>> = {
  // the table's 0.01° with its compass point (22.5° sectors), the chart's 0.1°
  az: rounded([0.01, 0.1, 1, 22.5]),
  // the table's 0.01°, the chart's 0.1° and whole degrees
  alt: rounded([0.01, 0.1, 1]),
  // formatRA: tenths of a second of time
  ra: rounded([1 / 36000]),
  // formatDec: whole arcseconds
  dec: rounded([1 / 3600]),
  // formatMagnitude: 0.1, with an explicit sign
  magnitude: rounded([0.1], true),
  // the chart's "n % lit"
  phase: rounded([0.01]),
  // not shown by the page: five significant digits (the Moon's to a few km)
  distance: significant(5),
};

/** Top-level snapshot fields a delta never carries: `time` always, `bodies` per body, `publishedAt` (latency) not. */
const OWN_FIELDS = new Set(['time', 'bodies', 'publishedAt']);

/** One field as clients were last sent it: the values that would look the same, or the value itself. */
class Shown {
  private lo = Number.NaN;
  private hi = Number.NaN;
  private key: Key | undefined;
  /** the object last taken: the same object again (a value message's unchanging parts) is the same without a look */
  private object: object | undefined;

  constructor(private readonly look: Look | undefined) {}

  /** Whether `value` looks different from the value last taken; if it does, it is taken. */
  take(value: unknown): boolean {
    if (typeof value === 'number' && this.look !== undefined) {
      if (value > this.lo && value < this.hi) return false;
      [this.lo, this.hi] = this.look(value);
      this.key = undefined;
      return true;
    }
    const isObject = value !== null && typeof value === 'object';
    if (isObject && value === this.object) return false;
    const key = isObject ? JSON.stringify(value) : (value as Key);
    this.object = isObject ? value : undefined;
    if (this.key !== undefined && key === this.key) return false;
    this.key = key;
    this.lo = this.hi = Number.NaN;
    return true;
  }
}

/** An object's fields (in order) and what clients were last sent of each. */
interface Fields {
  names: string[];
  shown: Shown[];
}

/** What every delta client shows: the snapshot `id` whole, with every delta since applied. */
interface Shows {
  id: number;
  top: Fields;
  bodies: (Fields & { name: unknown })[];
}

type Snapshot = Record<string, unknown> & { time: string; bodies: Record<string, unknown>[] };

/**
 * A snapshot a delta can describe: an object with a `time` and bodies each with a name of its own; else undefined.
 * The message's value when it carries one (ValueMessage), else its text parsed.
 */
function snapshotOf(message: BrokerMessage): Snapshot | undefined {
  let parsed: unknown;
  if (hasValue(message)) parsed = message.value;
  else {
    try {
      parsed = JSON.parse(message.data);
    } catch {
      return undefined;
    }
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const s = parsed as Snapshot;
  if (typeof s.time !== 'string' || !Array.isArray(s.bodies)) return undefined;
  const names = new Set<unknown>();
  for (const b of s.bodies as unknown[]) {
    if (b === null || typeof b !== 'object' || typeof (b as { name?: unknown }).name !== 'string') return undefined;
    names.add((b as { name: string }).name);
  }
  return names.size === s.bodies.length ? s : undefined;
}

const topNames = (s: Snapshot): string[] => Object.keys(s).filter((f) => !OWN_FIELDS.has(f));

function fieldsOf(names: string[], values: Record<string, unknown>, looks: boolean): Fields {
  const shown = names.map((f) => new Shown(looks ? LOOKS[f] : undefined));
  names.forEach((f, i) => shown[i]!.take(values[f]));
  return { names, shown };
}

const showsOf = (id: number, s: Snapshot): Shows => ({
  id,
  top: fieldsOf(topNames(s), s, false),
  bodies: s.bodies.map((b) => ({ name: b.name, ...fieldsOf(Object.keys(b), b, true) })),
});

const sameNames = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((f, i) => f === b[i]);

/** Whether `s` has the fields and bodies (names and order) of what clients show: what a delta can express. */
function sameShape(shows: Shows, s: Snapshot): boolean {
  if (!sameNames(shows.top.names, topNames(s)) || shows.bodies.length !== s.bodies.length) return false;
  return s.bodies.every((b, i) => b.name === shows.bodies[i]!.name && sameNames(shows.bodies[i]!.names, Object.keys(b)));
}

/** Takes what changed between what clients show and `s`; returns it as a delta's `data`. */
function take(shows: Shows, s: Snapshot): string {
  const out: Record<string, unknown> = { time: s.time };
  shows.top.names.forEach((f, i) => {
    if (shows.top.shown[i]!.take(s[f])) out[f] = s[f];
  });
  const bodies: Record<string, Record<string, unknown>> = {};
  let changed = false;
  shows.bodies.forEach(({ names, shown }, i) => {
    const b = s.bodies[i]!;
    names.forEach((f, j) => {
      if (!shown[j]!.take(b[f])) return;
      (bodies[b.name as string] ??= {})[f] = b[f];
      changed = true;
    });
  });
  if (changed) out.bodies = bodies;
  return JSON.stringify(out);
}

/** One channel's delta encoder: fed every snapshot of the channel in order (while it has delta clients). */
export class SnapshotDeltas {
  private shows: Shows | undefined;

  /**
   * The message as delta clients get it: a snapshot becomes its delta from the previous one, carrying `full` (its
   * whole frame) to fall back on; one that cannot be read, or one whose shape changed goes out whole. A sky event
   * goes out as it is. `previous`: the channel's snapshot before this one, for an encoder that has seen none yet (a
   * new client's first snapshot is that one, from its backlog).
   */
  next(message: BrokerMessage, full: FramedMessage, previous?: BrokerMessage): FramedMessage {
    if (full.keep) return full;
    if (this.shows === undefined && previous !== undefined) {
      const before = snapshotOf(previous);
      this.shows = before && showsOf(previous.id, before);
    }
    const s = snapshotOf(message);
    const shows = this.shows;
    if (s === undefined || shows === undefined || !sameShape(shows, s)) {
      this.shows = s && showsOf(message.id, s);
      return full;
    }
    const base = shows.id;
    shows.id = message.id;
    const data = take(shows, s);
    return { id: full.id, frame: frame({ id: full.id, event: DELTA_EVENT, data }), resync: { base, full: full.frame } };
  }
}
