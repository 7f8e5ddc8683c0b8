import { SKY_EVENT, hasValue, type BrokerMessage } from '../broker/broker.ts';
import type { FramedMessage, Resync } from './connection.ts';
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

/**
 * An object's field names, in order, and how the page shows each: the same for every snapshot of one shape, so shared
 * by every encoder (a memo of a pure function, bounded: snapshots come in a handful of shapes).
 */
interface Layout {
  names: readonly string[];
  looks: readonly (Look | undefined)[];
}

const LAYOUTS = new Map<string, Layout>();
const MAX_LAYOUTS = 256;

function layoutOf(names: readonly string[], withLooks: boolean): Layout {
  const key = `${withLooks ? 'looks' : 'as is'}:${names.join(',')}`;
  const known = LAYOUTS.get(key);
  if (known) return known;
  const layout = { names, looks: names.map((f) => (withLooks ? LOOKS[f] : undefined)) };
  if (LAYOUTS.size < MAX_LAYOUTS) LAYOUTS.set(key, layout);
  return layout;
}

/**
 * An object's fields and what clients were last sent of each: per field the values that would look the same, or the
 * value itself. Kept in two arrays beside the shared layout rather than an object per field: an encoder per spot
 * stream keeps thousands of these alive, and the garbage collector visits every object of them.
 */
class Fields {
  /** per field i: [2i, 2i + 1] the open interval of numbers that look like the one last sent (NaN: none) */
  private readonly bounds: number[];
  /** per field: the value last sent when it is not a number with a look (an object as its JSON) */
  private readonly keys: (Key | undefined)[];
  /** per field, once one is an object: the object last sent, so that the same object again (a value message's unchanging parts) needs no JSON */
  private objects: (object | undefined)[] | undefined;

  constructor(readonly layout: Layout) {
    this.bounds = new Array<number>(2 * layout.names.length).fill(Number.NaN);
    this.keys = new Array<Key | undefined>(layout.names.length).fill(undefined);
  }

  /** Whether field `i`'s `value` looks different from the value last taken; if it does, it is taken. */
  take(i: number, value: unknown): boolean {
    const look = this.layout.looks[i];
    const bounds = this.bounds;
    if (typeof value === 'number' && look !== undefined) {
      if (value > bounds[2 * i]! && value < bounds[2 * i + 1]!) return false;
      const [lo, hi] = look(value);
      bounds[2 * i] = lo;
      bounds[2 * i + 1] = hi;
      this.keys[i] = undefined;
      return true;
    }
    let key: Key;
    if (value !== null && typeof value === 'object') {
      this.objects ??= new Array<object | undefined>(this.keys.length).fill(undefined);
      if (value === this.objects[i]) return false;
      this.objects[i] = value;
      key = JSON.stringify(value);
    } else {
      if (this.objects) this.objects[i] = undefined;
      key = value as Key;
    }
    if (this.keys[i] !== undefined && key === this.keys[i]) return false;
    this.keys[i] = key;
    bounds[2 * i] = bounds[2 * i + 1] = Number.NaN;
    return true;
  }
}

/** What every delta client shows: the snapshot `id` whole, with every delta since applied. */
interface Shows {
  id: number;
  top: Fields;
  bodies: { name: unknown; fields: Fields }[];
}

type Snapshot = Record<string, unknown> & { time: string; bodies: Record<string, unknown>[] };

/**
 * A snapshot a delta may describe: an object with a `time` and bodies, each an object with a name; else undefined.
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
  for (const b of s.bodies as unknown[]) {
    if (b === null || typeof b !== 'object' || typeof (b as { name?: unknown }).name !== 'string') return undefined;
  }
  return s;
}

// Per tick, only sameShape() and take() run: they allocate little beyond the delta itself (with an encoder per spot
// stream, they run thousands of times a tick).

const topNames = (s: Snapshot): string[] => Object.keys(s).filter((f) => !OWN_FIELDS.has(f));

function fieldsOf(names: string[], values: Record<string, unknown>, looks: boolean): Fields {
  const fields = new Fields(layoutOf(names, looks));
  names.forEach((f, i) => fields.take(i, values[f]));
  return fields;
}

/** What clients show once sent `s` whole; undefined when two bodies share a name (a delta names the bodies it changes). */
function showsOf(id: number, s: Snapshot): Shows | undefined {
  if (new Set(s.bodies.map((b) => b.name)).size !== s.bodies.length) return undefined;
  return { id, top: fieldsOf(topNames(s), s, false), bodies: s.bodies.map((b) => ({ name: b.name, fields: fieldsOf(Object.keys(b), b, true) })) };
}

/** Whether `o`'s own fields, less `skip`, are `names` in that order. */
function hasFields(o: Record<string, unknown>, names: readonly string[], skip?: ReadonlySet<string>): boolean {
  let i = 0;
  for (const f in o) {
    if (skip?.has(f)) continue;
    if (names[i] !== f) return false;
    i++;
  }
  return i === names.length;
}

/** Whether `s` has the fields and bodies (names and order) of what clients show: what a delta can express. */
function sameShape(shows: Shows, s: Snapshot): boolean {
  if (shows.bodies.length !== s.bodies.length || !hasFields(s, shows.top.layout.names, OWN_FIELDS)) return false;
  for (let i = 0; i < s.bodies.length; i++) {
    const b = s.bodies[i]!;
    const shown = shows.bodies[i]!;
    if (b.name !== shown.name || !hasFields(b, shown.fields.layout.names)) return false;
  }
  return true;
}

/** Takes what changed between what clients show and `s`; returns it as a delta's `data`. */
function take(shows: Shows, s: Snapshot): string {
  const out: Record<string, unknown> = { time: s.time };
  const top = shows.top;
  const shownTop = top.layout.names;
  for (let i = 0; i < shownTop.length; i++) {
    const f = shownTop[i]!;
    if (top.take(i, s[f])) out[f] = s[f];
  }
  let bodies: Record<string, Record<string, unknown>> | undefined;
  for (let i = 0; i < shows.bodies.length; i++) {
    const { fields } = shows.bodies[i]!;
    const b = s.bodies[i]!;
    let changed: Record<string, unknown> | undefined;
    const names = fields.layout.names;
    for (let j = 0; j < names.length; j++) {
      const f = names[j]!;
      if (!fields.take(j, b[f])) continue;
      if (changed === undefined) {
        changed = {};
        (bodies ??= {})[b.name as string] = changed;
      }
      changed[f] = b[f];
    }
  }
  if (bodies) out.bodies = bodies;
  return JSON.stringify(out);
}

/** One channel's delta encoder: fed every snapshot of the channel in order (while it has delta clients). */
export class SnapshotDeltas {
  private shows: Shows | undefined;

  /**
   * The message as delta clients get it: a snapshot becomes its delta from the previous one, carrying its whole frame
   * to fall back on; one that cannot be read, or one whose shape changed goes out whole. A sky event goes out as it is.
   * `whole`: the message's whole frame, made when first asked for (a delta client that can apply its delta never needs
   * it). `previous`: the channel's snapshot before this one, for an encoder that has seen none yet (a new client's
   * first snapshot is that one, from its backlog).
   */
  next(message: BrokerMessage, whole: () => FramedMessage, previous?: BrokerMessage): FramedMessage {
    if (message.event === SKY_EVENT) return whole();
    if (this.shows === undefined && previous !== undefined) {
      const before = snapshotOf(previous);
      this.shows = before && showsOf(previous.id, before);
    }
    const s = snapshotOf(message);
    const shows = this.shows;
    if (s === undefined || shows === undefined || !sameShape(shows, s)) {
      this.shows = s && showsOf(message.id, s);
      return whole();
    }
    const base = shows.id;
    shows.id = message.id;
    const data = take(shows, s);
    const resync: Resync = {
      base,
      get full() {
        return whole().frame;
      },
    };
    return { id: message.id, frame: frame({ id: message.id, event: DELTA_EVENT, data }), resync };
  }
}
