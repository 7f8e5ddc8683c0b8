import type { FramedMessage } from '../hub/connection.ts';
import type { BatchWriter } from './batch-writer.ts';
import type { DirectWriteClient, Fanout } from './capabilities.ts';

// The two ways a message reaches a channel's direct-write clients (FANOUT_WRITER=js|native). The batching stays
// inside the writer: the hub hands over the clients and the message, once per message.

/** Each client writes through its own socket (net.Socket). */
export const pushEach: Fanout = {
  deliver(clients, m) {
    for (const client of clients) client.push(m.id, m.frame, m.keep, m.resync);
  },
};

/** Every client that can take the frame straight away gets it in one writeAll(); the others as push() would. */
export class BatchedFanout implements Fanout {
  /** reused by every delivery (one runs at a time), grown to the largest channel */
  private fds = new Int32Array(0);
  private results = new Int32Array(0);
  private claimed: (DirectWriteClient | undefined)[] = [];

  constructor(private readonly writer: BatchWriter) {}

  deliver(clients: ReadonlySet<DirectWriteClient>, m: FramedMessage): void {
    if (this.fds.length < clients.size) {
      const size = Math.max(clients.size, this.fds.length * 2);
      this.fds = new Int32Array(size);
      this.results = new Int32Array(size);
      this.claimed = new Array(size);
    }
    const { fds, results, claimed } = this;
    let n = 0;
    for (const client of clients) {
      const fd = client.claim(m.id, m.frame, m.keep, m.resync);
      if (fd < 0) continue;
      fds[n] = fd;
      claimed[n++] = client;
    }
    if (n === 0) return;
    this.writer.writeAll(fds, n, m.frame, results);
    const length = m.frame.length;
    for (let i = 0; i < n; i++) {
      if (results[i] !== length) claimed[i]!.settle(m.frame, results[i]!);
      // not kept alive by the scratch array once gone
      claimed[i] = undefined;
    }
  }
}

/** The fan-out for a writer: batched when there is one. */
export const fanoutFor = (writer: BatchWriter | undefined): Fanout => (writer ? new BatchedFanout(writer) : pushEach);
