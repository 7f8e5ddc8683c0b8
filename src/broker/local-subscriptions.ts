import type { Logger } from '../log.ts';
import {
  BrokerUnavailableError,
  decodeMessage,
  SKY_EVENT,
  type BrokerMessage,
  type MessageHandler,
  type Unsubscribe,
} from './broker.ts';
import type { UnparsableCounter } from './redis-history.ts';

// The local side of the Redis broker's subscriptions, whatever the topology: one server subscription per channel per
// process however many local handlers, each message to each handler once and in id order, and the catch-up after a
// reconnect.

export interface ChannelEntry {
  handlers: Set<MessageHandler>;
  /** resolves when the server confirmed the subscription for this entry */
  confirmed: Promise<unknown>;
  /** highest id delivered, so a re-delivery (two workers, backfill after a reconnect) is not passed on twice */
  lastId: number;
}

/** How LocalSubscriptions reaches the server: one remote subscription per channel with local handlers. */
export interface SubscriptionTransport {
  /** Subscribes `channel` on the server; resolves once confirmed. */
  open(channel: string): Promise<unknown>;
  /** The last local handler of `channel` is gone: drop the server-side subscription (best effort, never throws). */
  close(channel: string): void;
}

/**
 * One server subscription per channel per process, however many local handlers; the last handler releases it.
 * Messages reach handlers once each, in increasing id order per channel.
 */
export class LocalSubscriptions {
  private readonly channels = new Map<string, ChannelEntry>();

  constructor(
    private readonly transport: SubscriptionTransport,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.channels.size;
  }

  /** Entries with local handlers, for resubscribing and catching up after a reconnect. */
  entries(): [string, ChannelEntry][] {
    return [...this.channels.entries()];
  }

  /** Whether `entry` is still the live subscription of `channel` (not released and subscribed again since). */
  isCurrent(channel: string, entry: ChannelEntry): boolean {
    return this.channels.get(channel) === entry;
  }

  has(channel: string): boolean {
    return this.channels.has(channel);
  }

  async add(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { handlers: new Set(), confirmed: this.transport.open(channel), lastId: 0 };
      this.channels.set(channel, entry);
    }
    const current = entry;
    // A wrapper, so subscribing the same function twice gives two independent subscriptions.
    const own: MessageHandler = (m) => handler(m);
    current.handlers.add(own);
    const release = (): void => {
      current.handlers.delete(own);
      if (current.handlers.size > 0 || this.channels.get(channel) !== current) return;
      this.channels.delete(channel);
      this.transport.close(channel);
    };
    try {
      await current.confirmed;
    } catch (err) {
      release();
      throw new BrokerUnavailableError(`subscribe to ${channel} failed: ${(err as Error).message}`);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
    };
  }

  /** A live payload for `channel`: decoded and delivered, or counted as unparsable. */
  receive(channel: string, payload: string, unparsable: UnparsableCounter, key: string): void {
    const entry = this.channels.get(channel);
    if (!entry) return; // released while the message was in flight
    const message = decodeMessage(payload);
    if (!message) {
      unparsable.count(key, payload.length);
      return;
    }
    this.deliver(entry, message);
  }

  deliver(entry: ChannelEntry, message: BrokerMessage): void {
    if (message.id <= entry.lastId) return;
    entry.lastId = message.id;
    for (const h of [...entry.handlers]) {
      try {
        h(message);
      } catch (err) {
        this.log.error({ err }, 'stream handler threw');
      }
    }
  }

  clear(): void {
    this.channels.clear();
  }

  /**
   * After a reconnect: what the outage hid from each channel with local handlers. Every sky event after the last id
   * delivered (a happening is never skipped) and the newest snapshot (older ones are worthless once it exists); or,
   * for a channel that has delivered nothing yet, the newest stored message.
   */
  catchUp(reader: {
    history(channel: string, afterId: number): Promise<BrokerMessage[]>;
    latest(channel: string): Promise<BrokerMessage | undefined>;
  }): void {
    for (const [channel, entry] of this.entries()) {
      const read = entry.lastId > 0 ? reader.history(channel, entry.lastId) : reader.latest(channel).then((m) => (m ? [m] : []));
      read.then(
        (missed) => {
          if (!this.isCurrent(channel, entry)) return;
          let lastSnapshot = -1;
          missed.forEach((m, i) => m.event !== SKY_EVENT && (lastSnapshot = i));
          missed.forEach((m, i) => (m.event === SKY_EVENT || i === lastSnapshot) && this.deliver(entry, m));
        },
        () => {},
      );
    }
  }
}
