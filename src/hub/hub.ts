import { SKY_EVENT, hasLatestAtHand, type Broker, type BrokerMessage, type Unsubscribe } from '../broker/broker.ts';
import type { Logger } from '../log.ts';
import { fanoutFor, isDirectWriteClient, type BatchWriter, type DirectWriteClient, type Fanout } from '../fastpath/index.ts';
import { frame } from './frame.ts';
import type { FramedMessage, Resync } from './connection.ts';
import { SnapshotDeltas, type StreamFormat } from './delta.ts';

// Channel → the connections of this process. The first local client of a channel subscribes the broker, the last one
// releases it. Each message is framed once; the same Buffer is handed to every client, none of which can block the loop.
// A client that can take batched direct writes (fastpath/capabilities.ts) is told apart once, when it joins; its
// messages go through the fan-out (fastpath/fanout.ts), everyone else's through push().
// Each stream format (hub/delta.ts) is an audience of the channel, fed from the same broker subscription: the `delta`
// audience's frames are made once per message, only while it has clients, and fanned out the same way.

export interface HubClient {
  /**
   * `keep`: a sky event, which must reach the client even when newer messages follow (never conflated).
   * `resync`: `frame` is a delta, to be written only on top of snapshot `resync.base`, else `resync.full` instead.
   */
  push(id: number, frame: Buffer, keep?: boolean, resync?: Resync): void;
  close(reason: string, farewell?: Buffer): void;
}

/** The clients of a channel that take one stream format. */
interface Audience {
  /** clients without the direct-write capability */
  clients: Set<HubClient>;
  /** clients with it */
  direct: Set<DirectWriteClient>;
}

interface ChannelState {
  /** by stream format */
  audiences: Record<StreamFormat, Audience>;
  /** the delta audience's encoder, while it has clients */
  deltas: SnapshotDeltas | undefined;
  subscription: Promise<Unsubscribe>;
  /** highest id dispatched; a re-delivered or older id is dropped */
  lastId: number;
  /** whether `last` and `lastMessage` are kept (not for a channel whose broker has its latest at hand) */
  keepsLatest: boolean;
  /** the newest snapshot of the channel, framed: what a new client gets first without asking the broker */
  last: FramedMessage | undefined;
  /** the message `last` was framed from: what the first delta of a new delta encoder is relative to */
  lastMessage: BrokerMessage | undefined;
  /** one broker read for a burst of clients joining a channel nobody here has watched yet */
  latestRead: Promise<FramedMessage | undefined> | undefined;
}

export interface HubStats {
  channels: number;
  clients: number;
  /** messages framed and dispatched */
  dispatched: number;
  /** closed connections by reason */
  closed: Record<string, number>;
}

/** A message as its SSE frame: `event: update` for a snapshot, `event: sky-event` (kept, never conflated) for a happening. */
export const messageFrame = (m: BrokerMessage): FramedMessage =>
  m.event === SKY_EVENT
    ? { id: m.id, frame: frame({ id: m.id, event: SKY_EVENT, data: m.data }), keep: true }
    : { id: m.id, frame: frame({ id: m.id, event: 'update', data: m.data }) };

export interface HubOptions {
  /**
   * A client of a channel nobody here follows yet, arriving while the broker is (re)connecting, waits this long for
   * it before being refused (default 3000 ms): a node that has just started must not turn its first clients away.
   */
  readyWaitMs?: number;
  /** Sends each message to the direct-write clients' sockets in one call (fastpath/fanout.ts); absent: push() each. */
  batchWriter?: BatchWriter;
}

export class Hub {
  private readonly channels = new Map<string, ChannelState>();
  private dispatched = 0;
  private readonly closed: Record<string, number> = {};
  private readonly readyWaitMs: number;
  /** one poll of broker.ready() shared by every waiting client */
  private readyWait: Promise<boolean> | undefined;
  private readonly fanout: Fanout;
  /** whether the broker answers a channel's latest() without a round trip (found out once, from the broker) */
  private readonly latestAtHand: (channel: string) => boolean;

  constructor(
    readonly broker: Broker,
    private readonly log: Logger,
    options: HubOptions = {},
  ) {
    this.readyWaitMs = options.readyWaitMs ?? 3000;
    this.fanout = fanoutFor(options.batchWriter);
    this.latestAtHand = hasLatestAtHand(broker) ? (channel) => broker.latestAtHand(channel) : () => false;
  }

  /**
   * Adds `client` to `channel` (so it gets every message dispatched from then on, in `format`) and resolves when the
   * broker subscription is live. Rejects, with the client removed, when the broker cannot subscribe. A caller whose
   * client closed meanwhile calls leave() after it.
   */
  async join(channel: string, client: HubClient, format: StreamFormat = 'full'): Promise<void> {
    if (!this.channels.has(channel) && !this.broker.ready()) await this.whenReady();
    let state = this.channels.get(channel);
    if (!state) {
      const fresh: ChannelState = {
        audiences: { full: audience(), delta: audience() },
        deltas: undefined,
        lastId: -1,
        keepsLatest: !this.latestAtHand(channel),
        last: undefined,
        lastMessage: undefined,
        latestRead: undefined,
        subscription: undefined as unknown as Promise<Unsubscribe>,
      };
      fresh.subscription = this.broker.subscribe(channel, (m) => this.dispatch(fresh, m));
      this.channels.set(channel, fresh);
      this.log.debug({ channel }, 'channel subscribed');
      state = fresh;
    }
    const joined = state.audiences[format];
    if (isDirectWriteClient(client)) joined.direct.add(client);
    else joined.clients.add(client);
    // The first delta is relative to the snapshot a new client gets whole in its backlog (the channel's latest).
    if (format === 'delta') state.deltas ??= new SnapshotDeltas();
    try {
      await state.subscription;
    } catch (err) {
      this.leave(channel, client);
      throw err;
    }
  }

  private whenReady(): Promise<boolean> {
    this.readyWait ??= new Promise<boolean>((resolve) => {
      const started = Date.now();
      const timer = setInterval(() => {
        const ready = this.broker.ready();
        if (!ready && Date.now() - started < this.readyWaitMs) return;
        clearInterval(timer);
        this.readyWait = undefined;
        resolve(ready);
      }, 50);
      timer.unref();
    });
    return this.readyWait;
  }

  /** Removes `client`; the last one out releases the broker subscription. Safe to call more than once. */
  leave(channel: string, client: HubClient, reason?: string): void {
    if (reason) this.closed[reason] = (this.closed[reason] ?? 0) + 1;
    const state = this.channels.get(channel);
    if (!state || !(removeFrom(state.audiences.full, client) || removeFrom(state.audiences.delta, client))) return;
    if (audienceSize(state.audiences.delta) === 0) state.deltas = undefined;
    if (sizeOf(state) > 0) return;
    this.channels.delete(channel);
    this.log.debug({ channel }, 'channel released');
    state.subscription.then(
      (unsubscribe) => unsubscribe(),
      () => {},
    );
  }

  private dispatch(state: ChannelState, message: BrokerMessage): void {
    if (message.id <= state.lastId) return;
    state.lastId = message.id;
    // Framed whole once, and only when needed: for the full clients, the latest kept, or a delta client that cannot
    // apply its delta (a channel of delta clients alone mostly never needs it).
    let framed: FramedMessage | undefined;
    const whole = (): FramedMessage => (framed ??= messageFrame(message));
    const previous = state.lastMessage;
    if (message.event !== SKY_EVENT && state.keepsLatest) {
      state.last = whole();
      state.lastMessage = message;
    }
    this.dispatched++;
    if (audienceSize(state.audiences.full) > 0) this.deliver(state.audiences.full, whole());
    if (state.deltas) this.deliver(state.audiences.delta, state.deltas.next(message, whole, previous));
  }

  private deliver(to: Audience, framed: FramedMessage): void {
    // push() and claim() only queue or write without waiting; a client that closes itself here is removed from its
    // Set, which iteration tolerates.
    for (const client of to.clients) client.push(framed.id, framed.frame, framed.keep, framed.resync);
    if (to.direct.size > 0) this.fanout.deliver(to.direct, framed);
  }

  /** The newest message of a channel: cached from the live feed, else read once from the broker (or asked each time, when it has it at hand). */
  async latest(channel: string): Promise<FramedMessage | undefined> {
    const state = this.channels.get(channel);
    if (state?.last) return state.last;
    if (!state?.keepsLatest) {
      const m = await this.broker.latest(channel);
      return m && messageFrame(m);
    }
    state.latestRead ??= this.broker.latest(channel).then(
      (m) => {
        state.latestRead = undefined;
        if (!m) return undefined;
        const framed = messageFrame(m);
        // Only a snapshot is cached as the channel's latest (a happening is stored newest for a moment before its tick).
        if (framed.keep) return state.last ?? framed;
        // A live message may have overtaken the read.
        if (!state.last || state.last.id < m.id) {
          state.last = framed;
          state.lastMessage = m;
        }
        return state.last;
      },
      (err: unknown) => {
        state.latestRead = undefined;
        throw err;
      },
    );
    return state.latestRead;
  }

  /** Stored messages with id > afterId, framed, oldest first (for a resuming client). */
  async history(channel: string, afterId: number): Promise<FramedMessage[]> {
    return (await this.broker.history(channel, afterId)).map(messageFrame);
  }

  /** Closes every client (shutdown); their close handlers release the channels. */
  closeAll(reason: string, farewell?: Buffer): void {
    for (const state of [...this.channels.values()]) {
      for (const { clients, direct } of Object.values(state.audiences)) {
        for (const client of [...clients, ...direct]) client.close(reason, farewell);
      }
    }
  }

  /** Local clients of a channel (0 when nobody here watches it). */
  clientCount(channel: string): number {
    const state = this.channels.get(channel);
    return state ? sizeOf(state) : 0;
  }

  stats(): HubStats {
    let clients = 0;
    for (const s of this.channels.values()) clients += sizeOf(s);
    return { channels: this.channels.size, clients, dispatched: this.dispatched, closed: { ...this.closed } };
  }
}

const audience = (): Audience => ({ clients: new Set(), direct: new Set() });
const removeFrom = (a: Audience, client: HubClient): boolean =>
  isDirectWriteClient(client) ? a.direct.delete(client) : a.clients.delete(client);
const audienceSize = (a: Audience): number => a.clients.size + a.direct.size;
const sizeOf = (state: ChannelState): number => audienceSize(state.audiences.full) + audienceSize(state.audiences.delta);
