import { BrokerError, hasLatestAtHand, type Broker, type BrokerMessage, type BrokerStats, type LatestAtHand, type MessageHandler, type PublishItem, type PublishResult, type Unsubscribe, type ValueMessage } from '../broker/broker.ts';
import type { Logger } from '../log.ts';
import { cellOf, type Cell } from '../sky/cell.ts';
import { BodiesJsonWriter } from '../sky/bodies-json.ts';
import { PositionCalculator } from '../sky/fast-path.ts';
import { decodeGeoFrame, type GeoFrame } from '../sky/geo-frame.ts';
import { isoString } from '../sky/isotime.ts';
import { SpotSky } from '../sky/spot-sky.ts';
import type { BodyPosition } from '../sky/types.ts';
import { FRAME_CHANNEL, isSpotChannel, spotHeadOf, spotHeadText, spotObserverOf, type SpotHead } from './channel.ts';

// Exact-spot streams on an API node, as a broker the hub uses like any other: a spot channel (`spot:<lat>,<lon>,<elev>`,
// channel.ts) is "subscribed" by registering its cell here, and its messages are computed here from the worker's
// geocentric frame (FRAME_CHANNEL) instead of coming from Redis. Every other channel passes straight to the real
// broker. So the hub's fan-out, conflation, latest-on-connect and resume work for spots unchanged.
//
// One frame subscription per node while any spot is watched. Per frame: each cell watched here is computed once
// (SpotSky), then each distinct requested observer in it gets its own message (the cell's bodies behind that
// observer's head), which the hub frames once for all of that observer's clients. The last viewer of a cell leaving
// drops the cell; the last cell leaving drops the frame subscription.
//
// A spot's snapshot is published here, on the node, so this is where its `publishedAt` is stamped. A tick's cells are
// computed in chunks spread evenly over the same share of the tick as the worker spreads the grid (PUBLISH_SPREAD),
// each chunk stamped with its own instant: the grid streams and new requests on this node are never held up behind
// thousands of cells, and the node's CPU stays level over the whole tick instead of crowding into its start, where the
// nodes, the load of the grid and the readers of every stream would all want the cores at once. A frame arriving
// while the previous tick is unfinished (a node running late: a pause, a busy moment) hurries that tick: its
// remaining cells go out at once, and the new tick follows. A frame arriving while a hurried tick is still unfinished
// (an overloaded node) takes over, and starts where the unfinished one stopped: the cells it did not reach are the
// first served, so under overload every cell skips a tick now and then (as a conflated client would) rather than the
// same cells starving.

/** Cells per chunk: a few milliseconds of work. */
const CHUNK_CELLS = 128;

const copyPosition = (b: BodyPosition): BodyPosition => ({ ...b });

/** A live spot snapshot: its value, and its text written from it when first read. */
class SpotMessage implements ValueMessage {
  private text: string | undefined;

  constructor(
    readonly id: number,
    readonly value: SpotHead & { time: string; bodies: readonly BodyPosition[]; publishedAt: number },
    private readonly headText: string,
    private readonly tailOf: () => string,
  ) {}

  get data(): string {
    this.text ??= this.headText + this.tailOf();
    return this.text;
  }
}

interface DecodedFrame {
  id: number;
  frame: GeoFrame;
  /** the worker's publish instant (a live tick's chunks carry their own) */
  publishedAt: number;
  /** the tick instant as the snapshots write it */
  time: string;
  /** `,"time":"…","bodies":` of this tick */
  timeHead: string;
}

/** A tick's pass over the cells, chunk by chunk. */
interface TickRun {
  /** a newer frame arrived before this run finished: its remaining chunks go out unpaced */
  hurried: boolean;
  /** that newer frame and when its last chunk is due, its run starting when this one ends */
  next: { f: DecodedFrame; due: number } | undefined;
}

interface CellState {
  readonly cell: Cell;
  readonly sky: SpotSky;
  /** the cell's slot in the node's bodies writer (its cache of encoded tails) */
  readonly slot: number;
  /** the frame id the cell was last computed for on a live tick */
  lastId: number;
  readonly observers: Set<ObserverState>;
}

interface ObserverState {
  readonly channel: string;
  /** what the message says before its `time`, as a value and as text */
  readonly head: SpotHead;
  readonly headText: string;
  readonly cell: CellState;
  readonly handlers: Set<MessageHandler>;
}

export interface SpotStats {
  /** cells watched on this node */
  cells: number;
  /** distinct requested observers (spot channels) watched on this node */
  observers: number;
  /** cell computations for a live tick, since start: at most one per cell per tick */
  computations: number;
  /** snapshots computed for one client rather than a live tick: a resume's missed ticks, an observer joining mid-tick */
  replays: number;
}

export interface SpotBrokerOptions {
  log: Logger;
  /** how long after a frame its last chunk of cells is due (PUBLISH_SPREAD × TICK_MS, as the worker spreads the grid) */
  spreadMs: number;
}

export class SpotBroker implements Broker, LatestAtHand {
  private readonly cells = new Map<string, CellState>();
  private readonly observers = new Map<string, ObserverState>();
  private frames: Promise<Unsubscribe> | undefined;
  private last: DecodedFrame | undefined;
  /** the tick being delivered, while it is */
  private run: TickRun | undefined;
  /** where the last tick's run stopped (an index into the cells' insertion order): the next tick starts there */
  private resumeAt = 0;
  private computations = 0;
  private replays = 0;
  private unparsable = 0;
  private readonly log: Logger;
  private readonly spreadMs: number;
  /** scratch and searches for every cell of this node, computed one at a time */
  private readonly calc = new PositionCalculator();
  /** one serialiser for every cell (slot 0: replays; a cell's slot is reused after it is dropped) */
  private readonly writer = new BodiesJsonWriter();
  private readonly freeSlots: number[] = [];
  private nextSlot = 1;

  constructor(
    private readonly inner: Broker,
    options: SpotBrokerOptions,
  ) {
    this.log = options.log.child({ component: 'spots' });
    this.spreadMs = options.spreadMs;
  }

  get kind(): Broker['kind'] {
    return this.inner.kind;
  }

  publish(items: readonly PublishItem[]): Promise<PublishResult> {
    return this.inner.publish(items);
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    if (!isSpotChannel(channel)) return this.inner.subscribe(channel, handler);
    const observer = this.observerState(channel);
    const entry: MessageHandler = (m) => handler(m);
    observer.handlers.add(entry);
    let done = false;
    const unsubscribe = (): void => {
      if (done) return;
      done = true;
      this.release(observer, entry);
    };
    try {
      this.frames ??= this.subscribeFrames();
      await this.frames;
    } catch (err) {
      unsubscribe();
      throw err;
    }
    return unsubscribe;
  }

  private subscribeFrames(): Promise<Unsubscribe> {
    const subscribing = this.inner.subscribe(FRAME_CHANNEL, (m) => this.onFrame(m));
    // A failed subscription is forgotten, so the next spot client tries again.
    subscribing.catch(() => {
      if (this.frames === subscribing) this.frames = undefined;
    });
    return subscribing;
  }

  private observerState(channel: string): ObserverState {
    const known = this.observers.get(channel);
    if (known) return known;
    const o = spotObserverOf(channel);
    if (!o) throw new BrokerError(`not a spot channel: ${channel}`);
    const cell = cellOf(o);
    let cs = this.cells.get(cell.id);
    if (!cs) {
      const slot = this.freeSlots.pop() ?? this.nextSlot++;
      cs = { cell, sky: new SpotSky(cell), slot, lastId: -1, observers: new Set() };
      this.cells.set(cell.id, cs);
    }
    const head = spotHeadOf(o, cell);
    const state: ObserverState = { channel, head, headText: spotHeadText(head), cell: cs, handlers: new Set() };
    cs.observers.add(state);
    this.observers.set(channel, state);
    return state;
  }

  private release(observer: ObserverState, entry: MessageHandler): void {
    observer.handlers.delete(entry);
    if (observer.handlers.size > 0) return;
    this.observers.delete(observer.channel);
    const cs = observer.cell;
    cs.observers.delete(observer);
    if (cs.observers.size > 0) return;
    this.cells.delete(cs.cell.id);
    this.freeSlots.push(cs.slot);
    if (this.cells.size > 0) return;
    const frames = this.frames;
    this.frames = undefined;
    this.last = undefined;
    this.run = undefined;
    frames?.then(
      (unsubscribe) => unsubscribe(),
      () => {},
    );
  }

  private decode(m: BrokerMessage): DecodedFrame | undefined {
    const d = decodeGeoFrame(m.data, this.calc.constellations);
    if (!d) {
      if (this.unparsable++ === 0) this.log.warn({ id: m.id }, 'a geocentric frame could not be decoded (counted; logged once)');
      return undefined;
    }
    const time = isoString(d.frame.ms);
    return { id: m.id, frame: d.frame, publishedAt: d.publishedAt, time, timeHead: `,"time":"${time}","bodies":` };
  }

  private onFrame(m: BrokerMessage): void {
    if (this.last && m.id <= this.last.id) return;
    const f = this.decode(m);
    if (!f) return;
    this.last = f;
    const due = Date.now() + this.spreadMs;
    const late = this.run;
    if (late && !late.hurried) {
      // Late by less than a tick: its remaining cells go out now, unpaced, and this frame's run follows.
      late.hurried = true;
      late.next = { f, due };
      return;
    }
    // Idle, or still behind after a hurried tick (overloaded): this frame takes over where that run stopped.
    this.startRun(f, due);
  }

  /** Delivers `f` to every cell, chunk by chunk, the last chunk due at `due` (a run that starts late paces the rest). */
  private startRun(f: DecodedFrame, due: number): void {
    const cells = [...this.cells.values()];
    const n = cells.length;
    const run: TickRun = { hurried: false, next: undefined };
    this.run = run;
    const chunks = Math.ceil(n / CHUNK_CELLS);
    const first = n === 0 ? 0 : this.resumeAt % n;
    const start = Date.now();
    const span = Math.max(0, due - start);
    let k = 0;
    const step = (): void => {
      // A newer frame took over: its own run covers every cell, from where this one stopped.
      if (this.run !== run) return;
      const publishedAt = Date.now();
      const end = Math.min(n, (k + 1) * CHUNK_CELLS);
      for (let i = k * CHUNK_CELLS; i < end; i++) this.deliver(cells[(first + i) % n]!, f, publishedAt);
      this.resumeAt = (first + end) % Math.max(1, n);
      if (++k < chunks) {
        const wait = run.hurried ? 0 : start + Math.round((k * span) / chunks) - Date.now();
        if (wait > 0) setTimeout(step, wait);
        else setImmediate(step);
        return;
      }
      this.run = undefined;
      if (run.next) this.startRun(run.next.f, run.next.due);
    };
    step();
  }

  private deliver(cs: CellState, f: DecodedFrame, publishedAt: number): void {
    if (cs.observers.size === 0) return; // left while the tick was in progress
    const { positions, slot } = this.positionsOf(cs, f);
    // The messages are made as values (for the delta encoder), with the bodies copied since the cell's are overwritten
    // next tick; their text is written from those copies when first read, once for the cell's observers, and never
    // for viewers that take deltas alone.
    const bodies = positions.map(copyPosition);
    let tail: string | undefined;
    const tailOf = (): string => (tail ??= `${f.timeHead}${this.writer.write(bodies, slot)},"publishedAt":${publishedAt}}`);
    for (const o of cs.observers) {
      const { location, observer, cell } = o.head;
      const message = new SpotMessage(f.id, { location, observer, cell, time: f.time, bodies, publishedAt }, o.headText, tailOf);
      for (const h of o.handlers) {
        try {
          h(message);
        } catch (err) {
          this.log.error({ err, channel: o.channel }, 'spot handler failed');
        }
      }
    }
  }

  /**
   * The cell's bodies at the frame, and the writer slot whose cache their JSON uses. A newer frame is the cell's live
   * computation (once per tick). The same frame again (the first message of an observer joining a cell mid-tick) or
   * an older one is a replay: nothing of a tick is kept per cell to answer it, since it is rare and every cell's copy
   * would otherwise live until the next tick. The positions are the cell's own, overwritten by its next computation.
   */
  private positionsOf(cs: CellState, f: DecodedFrame): { positions: readonly BodyPosition[]; slot: number } {
    if (f.id > cs.lastId) {
      cs.lastId = f.id;
      this.computations++;
    } else this.replays++;
    // The live sky can serve its own tick again; an older tick goes to a sky of its own, so the live one never runs back.
    const older = f.id < cs.lastId;
    return { positions: (older ? new SpotSky(cs.cell) : cs.sky).compute(f.frame, this.calc), slot: older ? 0 : cs.slot };
  }

  /** A spot's latest is computed here from the frame this node keeps; other channels are the real broker's to say. */
  latestAtHand(channel: string): boolean {
    return isSpotChannel(channel) || (hasLatestAtHand(this.inner) && this.inner.latestAtHand(channel));
  }

  async latest(channel: string): Promise<BrokerMessage | undefined> {
    if (!isSpotChannel(channel)) return this.inner.latest(channel);
    let f = this.last;
    if (!f) {
      const m = await this.inner.latest(FRAME_CHANNEL);
      f = m && this.decode(m);
      if (!f) return undefined;
      // Kept as the node's latest frame only while spots are watched and no newer one arrived meanwhile.
      if (this.cells.size > 0 && (!this.last || this.last.id < f.id)) this.last = f;
    }
    const observer = this.observers.get(channel);
    if (observer) {
      const { positions, slot } = this.positionsOf(observer.cell, f);
      return { id: f.id, data: `${observer.headText}${f.timeHead}${this.writer.write(positions, slot)},"publishedAt":${f.publishedAt}}` };
    }
    return this.replay(channel, [f])[0];
  }

  async history(channel: string, afterId: number): Promise<BrokerMessage[]> {
    if (!isSpotChannel(channel)) return this.inner.history(channel, afterId);
    const frames: DecodedFrame[] = [];
    for (const m of await this.inner.history(FRAME_CHANNEL, afterId)) {
      const f = this.decode(m);
      if (f) frames.push(f);
    }
    return this.replay(channel, frames);
  }

  /** Past frames for one observer, computed on a SpotSky of their own (the live cell's stays on the live ticks). */
  private replay(channel: string, frames: readonly DecodedFrame[]): BrokerMessage[] {
    if (frames.length === 0) return [];
    const o = spotObserverOf(channel);
    if (!o) throw new BrokerError(`not a spot channel: ${channel}`);
    const cell = cellOf(o);
    const head = spotHeadText(spotHeadOf(o, cell));
    const sky = new SpotSky(cell);
    this.replays += frames.length;
    return frames.map((f) => ({ id: f.id, data: `${head}${f.timeHead}${this.writer.write(sky.compute(f.frame, this.calc), 0)},"publishedAt":${f.publishedAt}}` }));
  }

  ready(): boolean {
    return this.inner.ready();
  }

  stats(): BrokerStats {
    const s = this.inner.stats();
    return { ...s, unparsable: s.unparsable + this.unparsable };
  }

  spotStats(): SpotStats {
    return { cells: this.cells.size, observers: this.observers.size, computations: this.computations, replays: this.replays };
  }

  async close(): Promise<void> {
    this.cells.clear();
    this.observers.clear();
    this.last = undefined;
    this.run = undefined;
    this.frames = undefined;
    await this.inner.close();
  }
}
