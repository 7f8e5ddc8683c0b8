import type { FramedMessage, Resync } from '../hub/connection.ts';
import type { HubClient } from '../hub/hub.ts';
import type { SseSink } from '../hub/sink.ts';

// What the fast path adds to the hub's core interfaces, as capabilities an implementation has or has not: the hub
// and a connection ask once (when a client joins, when a connection is made), never per message.

/** A sink on a socket whose descriptor the fast path may write to (batched writes) and probe (kernel-stall.ts). */
export interface DescriptorSink extends SseSink {
  /**
   * The socket's descriptor when bytes written to it directly right now would follow everything written before
   * (nothing queued in Node or libuv) and it is open; else -1.
   */
  directFd(): number;
  /** The socket's descriptor while it is open (else -1), for the kernel's view of its queue. */
  kernelFd(): number;
}

export const isDescriptorSink = (sink: SseSink): sink is DescriptorSink => 'directFd' in sink;

/** A hub client that can take a message through a batched write to its socket (fanout.ts). */
export interface DirectWriteClient extends HubClient {
  /**
   * The descriptor to which the hub may send this message directly, the client counting it as sent; or -1 when the
   * client has dealt with it itself (as push() would: written, held, conflated or skipped; a delta it cannot apply,
   * replaced by its full frame).
   */
  claim(id: number, frame: Buffer, keep?: boolean, resync?: Resync): number;
  /** After a claimed message's batched write: what the kernel took (bytes, or -errno). Called only when short. */
  settle(frame: Buffer, written: number): void;
}

export const isDirectWriteClient = (client: HubClient): client is DirectWriteClient => 'claim' in client;

/** How one message reaches a channel's direct-write clients. */
export interface Fanout {
  deliver(clients: ReadonlySet<DirectWriteClient>, message: FramedMessage): void;
}
