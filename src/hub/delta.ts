import type { BrokerMessage } from '../broker/broker.ts';
import type { FramedMessage } from './connection.ts';
import { frame } from './frame.ts';

// The `delta` stream format (?format=delta, docs/api.md "Stream formats"): per tick, only what the page would show
// differently from the tick before, as `event: delta`; the whole snapshot as `event: update` whenever a client has
// no picture to apply a delta to. One encoder per channel, fed each snapshot once, whatever the number of clients.
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

/** How the page renders a value to 2, 1 and 0 decimals (web/js/format.js formatNumber, toFixed with its sign). */
const fixed210 = (v: number): string => `${v.toFixed(2)}|${v.toFixed(1)}|${v.toFixed(0)}|${Math.round(v)}`;

/**
 * What the page shows of each number (web/js/format.js, as used by table.js and chart.js): two values with the same
 * key look the same wherever the page renders them, so a delta sends a number only when its key changes (with its
 * full value). A number not listed here (a new field) is sent whenever its value changes.
 */
const DISPLAY_KEYS: Readonly<Record<string, (v: number) => Key>> = {
  // the table's 0.01° and compass point, the chart's 0.1°
  az: (v) => `${fixed210(v)}|${Math.round((((v % 360) + 360) % 360) / 22.5) % 16}`,
  // the table's 0.01°, the chart's 0.1° and whole degrees
  alt: fixed210,
  // formatRA: tenths of a second of time, 24 h wrapped to 0
  ra: (h) => Math.round((((h % 24) + 24) % 24) * 36000) % 864000,
  // formatDec: whole arcseconds with the sign
  dec: (d) => (d < 0 ? -1 : 1) * Math.round(Math.abs(d) * 3600),
  // formatMagnitude: 0.1 with an explicit sign
  magnitude: (v) => (v < 0 ? '-' : v > 0 ? '+' : '') + Math.abs(v).toFixed(1),
  // the chart's "n % lit"
  phase: (v) => Math.round(v * 100),
  // not shown by the page: five significant digits (the Moon's to a few km)
  distance: (v) => v.toPrecision(5),
};

/** Top-level snapshot fields a delta never carries: `time` always, `bodies` per body, `publishedAt` (latency) not. */
const OWN_FIELDS = new Set(['time', 'bodies', 'publishedAt']);

const keyOf = (field: string, value: unknown): Key => {
  const display = DISPLAY_KEYS[field];
  if (display !== undefined && typeof value === 'number') return display(value);
  if (value === null || typeof value !== 'object') return value as Key;
  return JSON.stringify(value);
};

interface Body {
  name: string;
  [field: string]: unknown;
}

/** A snapshot reduced to what decides whether a delta carries a field: the key of every field. */
interface Keyed {
  id: number;
  /** top-level fields other than OWN_FIELDS, by name */
  top: Map<string, Key>;
  /** per body, in the snapshot's order: its name and its fields' keys */
  bodies: { name: string; keys: Map<string, Key> }[];
}

function keyed(id: number, snapshot: Record<string, unknown>): Keyed | undefined {
  const list = snapshot.bodies;
  if (!Array.isArray(list) || typeof snapshot.time !== 'string') return undefined;
  const top = new Map<string, Key>();
  for (const field of Object.keys(snapshot)) if (!OWN_FIELDS.has(field)) top.set(field, keyOf(field, snapshot[field]));
  const bodies: Keyed['bodies'] = [];
  const names = new Set<string>();
  for (const b of list as unknown[]) {
    // a delta names its bodies: each needs a name of its own
    if (b === null || typeof b !== 'object' || typeof (b as Body).name !== 'string' || names.has((b as Body).name)) return undefined;
    names.add((b as Body).name);
    const keys = new Map<string, Key>();
    for (const [field, value] of Object.entries(b as Body)) if (field !== 'name') keys.set(field, keyOf(field, value));
    bodies.push({ name: (b as Body).name, keys });
  }
  return { id, top, bodies };
}

/** Whether `a` and `b` have the same fields and the same bodies, in the same order, with the same fields. */
const sameFields = (a: Map<string, Key>, b: Map<string, Key>): boolean => a.size === b.size && [...a.keys()].every((f) => b.has(f));
const sameShape = (a: Keyed, b: Keyed): boolean =>
  sameFields(a.top, b.top) &&
  a.bodies.length === b.bodies.length &&
  a.bodies.every((body, i) => body.name === b.bodies[i]!.name && sameFields(body.keys, b.bodies[i]!.keys));

/**
 * The `data` of the delta from `base` to `next` (whose parsed form is `snapshot`), or undefined when their shapes
 * differ (a body or a field added or gone, which a delta cannot say): the client then gets the whole snapshot.
 */
function deltaData(base: Keyed, next: Keyed, snapshot: Record<string, unknown>): string | undefined {
  if (!sameShape(base, next)) return undefined;
  const out: Record<string, unknown> = { time: snapshot.time };
  for (const [field, key] of next.top) if (base.top.get(field) !== key) out[field] = snapshot[field];
  const bodies: Record<string, Record<string, unknown>> = {};
  const values = snapshot.bodies as Body[];
  next.bodies.forEach(({ name, keys }, i) => {
    const was = base.bodies[i]!.keys;
    for (const [field, key] of keys) if (was.get(field) !== key) (bodies[name] ??= {})[field] = values[i]![field];
  });
  if (Object.keys(bodies).length > 0) out.bodies = bodies;
  return JSON.stringify(out);
}

/** The keys of a snapshot message; undefined when it is not a snapshot object with a `time` and named bodies. */
function keyedMessage(message: BrokerMessage): { keyed: Keyed; snapshot: Record<string, unknown> } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.data);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const snapshot = parsed as Record<string, unknown>;
  const k = keyed(message.id, snapshot);
  return k && { keyed: k, snapshot };
}

/** One channel's delta encoder: fed every snapshot of the channel in order (while it has delta clients). */
export class SnapshotDeltas {
  private base: Keyed | undefined;

  /**
   * The message as delta clients get it: a snapshot becomes its delta from the previous one, carrying `full` (its
   * whole frame) to fall back on; one that cannot be read, or one whose shape changed goes out whole. A sky event
   * goes out as it is. `previous`: the channel's snapshot before this one, for an encoder that has seen none yet (a
   * new client's first snapshot is that one, from its backlog).
   */
  next(message: BrokerMessage, full: FramedMessage, previous?: BrokerMessage): FramedMessage {
    if (full.keep) return full;
    const next = keyedMessage(message);
    const base = this.base ?? (previous && keyedMessage(previous)?.keyed);
    this.base = next?.keyed;
    const data = base && next && deltaData(base, next.keyed, next.snapshot);
    if (data === undefined) return full;
    return { id: full.id, frame: frame({ id: full.id, event: DELTA_EVENT, data }), resync: { base: base!.id, full: full.frame } };
  }
}
