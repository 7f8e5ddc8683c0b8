import {
  BrokerClosedError,
  type Broker,
  type BrokerMessage,
  type MessageHandler,
  type PublishItem,
  type PublishResult,
  type Unsubscribe,
} from './broker.ts';

// The embedded default: everything in this process. History is a ring buffer per channel, like the capped Redis stream.

export interface MemoryBrokerOptions {
  /** messages kept per channel for resuming clients */
  historyLimit: number;
}

class Ring {
  private readonly items: (BrokerMessage | undefined)[];
  private start = 0;
  size = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<BrokerMessage | undefined>(capacity);
  }

  push(message: BrokerMessage): void {
    if (this.size < this.capacity) {
      this.items[(this.start + this.size) % this.capacity] = message;
      this.size++;
    } else {
      this.items[this.start] = message;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  at(i: number): BrokerMessage {
    return this.items[(this.start + i) % this.capacity]!;
  }

  last(): BrokerMessage | undefined {
    return this.size === 0 ? undefined : this.at(this.size - 1);
  }

  after(afterId: number): BrokerMessage[] {
    const out: BrokerMessage[] = [];
    for (let i = 0; i < this.size; i++) {
      const m = this.at(i);
      if (m.id > afterId) out.push(m);
    }
    return out;
  }
}

/** Stores `item` in its channel's history, or records why not; returns the stored message. */
function append(ring: Ring, { channel, id, data, event }: PublishItem, result: PublishResult): BrokerMessage | undefined {
  const last = ring.last();
  if (last && id <= last.id) {
    result.failed.push({ channel, id, reason: `id ${id} is not above the channel's last id ${last.id}` });
    return undefined;
  }
  const message: BrokerMessage = event ? { id, data, event } : { id, data };
  ring.push(message);
  result.published++;
  return message;
}

function dispatch(set: Set<MessageHandler>, message: BrokerMessage): void {
  // A copy, so a handler that unsubscribes during dispatch does not skip its neighbours.
  for (const h of [...set]) {
    try {
      h(message);
    } catch {
      // One failing subscriber must not keep the message from the others (Redis would not either).
    }
  }
}

// Returned as a plain object of own functions (not a class instance): tests and benchmarks spread it to override one method.
export function createMemoryBroker(options: MemoryBrokerOptions): Broker {
  const historyLimit = Math.max(1, Math.floor(options.historyLimit));
  const histories = new Map<string, Ring>();
  const handlers = new Map<string, Set<MessageHandler>>();
  let closed = false;

  return {
    kind: 'memory',

    async publish(items: readonly PublishItem[]): Promise<PublishResult> {
      if (closed) throw new BrokerClosedError();
      const result: PublishResult = { published: 0, failed: [] };
      for (const item of items) {
        let ring = histories.get(item.channel);
        if (!ring) histories.set(item.channel, (ring = new Ring(historyLimit)));
        const message = append(ring, item, result);
        const set = handlers.get(item.channel);
        if (message && set) dispatch(set, message);
      }
      return result;
    },

    async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
      if (closed) throw new BrokerClosedError();
      let set = handlers.get(channel);
      if (!set) handlers.set(channel, (set = new Set()));
      // A wrapper, so subscribing the same function twice gives two independent subscriptions.
      const entry: MessageHandler = (m) => handler(m);
      set.add(entry);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const current = handlers.get(channel);
        if (!current) return;
        current.delete(entry);
        if (current.size === 0) handlers.delete(channel);
      };
    },

    async history(channel: string, afterId: number): Promise<BrokerMessage[]> {
      if (closed) throw new BrokerClosedError();
      return histories.get(channel)?.after(afterId) ?? [];
    },

    async latest(channel: string): Promise<BrokerMessage | undefined> {
      if (closed) throw new BrokerClosedError();
      return histories.get(channel)?.last();
    },

    ready: () => !closed,

    stats: () => ({ unparsable: 0, channels: handlers.size }),

    async close(): Promise<void> {
      closed = true;
      handlers.clear();
    },
  };
}
