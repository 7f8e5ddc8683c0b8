import { HEARTBEAT_FRAME } from './frame.ts';
import { HeartbeatWheel, type Beating } from './heartbeat.ts';
import { isDescriptorSink, type DescriptorSink, type DirectWriteClient, type KernelStallWatch, type Watched } from '../fastpath/index.ts';
import { isCorkable, type SseSink } from './sink.ts';

// One SSE client. Live messages never wait on the client: while its socket is full, only the newest snapshot is kept
// (older snapshots are worthless once a newer one exists) and sent when the socket drains; a sky event is never
// conflated (it is queued behind what the socket holds, and supersedes an older pending snapshot). A client that stays
// full for `stallMs`, or lets more than `maxBufferedBytes` pile up, is closed as `slow_client`; so is one whose kernel
// send queue makes no progress for `stallMs` (fastpath/kernel-stall.ts), since the kernel may buffer megabytes before Node sees
// a full socket.
// Nothing here runs per message beyond the write itself: no timer is touched (the heartbeat wheel reads lastWrite).
// On a sink with a socket descriptor (fastpath/capabilities.ts) the connection also takes batched direct writes from
// the hub and is watched on the kernel's side; it finds that out once, when it is made.
// A delta (hub/delta.ts) is written only right after the snapshot it is relative to; after any gap (conflated,
// held, joined late) the same tick's full frame it carries goes instead.

export type CloseReason =
  | 'client_gone'
  | 'slow_client'
  | 'shutdown'
  | 'broker_unavailable'
  | 'error';

export interface FramedMessage {
  id: number;
  frame: Buffer;
  /** a sky event: must be delivered, never replaced by a newer message */
  keep?: boolean;
  /** `frame` is a delta: how to do without it */
  resync?: Resync;
}

/** What a delta frame needs: it applies on top of snapshot `base` only; `full` is the same tick whole. */
export interface Resync {
  base: number;
  full: Buffer;
}

export interface ConnectionOptions {
  /** an idle stream gets a comment this often, so proxies keep it open; real messages reset the timer */
  heartbeatMs: number;
  /** a client whose socket has not drained for this long is closed */
  stallMs: number;
  /** a client with more than this many bytes waiting (beyond its backlog) is closed */
  maxBufferedBytes: number;
  /**
   * The timer wheel shared by a node's connections (its interval is the heartbeat period). Absent: the connection
   * gets a wheel of its own, exact to the millisecond.
   */
  heartbeats?: HeartbeatWheel;
  /**
   * The kernel-side stall check shared by a node's connections (fastpath/kernel-stall.ts); absent, or a sink without a
   * descriptor: only what Node itself buffers counts towards a stall.
   */
  kernelStalls?: KernelStallWatch;
}

/** Live messages that arrive while the backlog is read; a short window (one history read), bounded anyway. */
const MAX_HELD = 256;

export class SseConnection implements DirectWriteClient, Beating, Watched {
  private lastId = -1;
  /** the id of the last snapshot written (not a sky event): what a delta must be relative to */
  private lastSnapshot = -1;
  private priming = true;
  private held: FramedMessage[] = [];
  /** the newest message not yet written because the socket is full (latest wins) */
  private pending: FramedMessage | undefined;
  private blocked = false;
  /** bytes of the backlog written at once by prime(); the buffer cap applies beyond them */
  private backlogBytes = 0;
  private readonly heartbeats: HeartbeatWheel;
  lastWrite = 0;
  heartbeatSlot = -1;
  private stallTimer: NodeJS.Timeout | undefined;
  private closeListeners: ((reason: CloseReason) => void)[] = [];
  closed = false;
  closeReason: CloseReason | undefined;
  /** live messages replaced by a newer one before they could be written */
  conflated = 0;
  /** live messages discarded unsent: overflowing the start-up hold, or pending at close */
  dropped = 0;
  /** the sink, when it has a socket descriptor */
  private readonly descriptorSink: DescriptorSink | undefined;

  constructor(
    private readonly sink: SseSink,
    private readonly options: ConnectionOptions,
  ) {
    sink.onDrain(() => this.onDrain());
    sink.onClose(() => this.close('client_gone'));
    this.heartbeats = options.heartbeats ?? new HeartbeatWheel(options.heartbeatMs, 1);
    this.heartbeats.add(this);
    this.descriptorSink = isDescriptorSink(sink) ? sink : undefined;
    if (this.descriptorSink) options.kernelStalls?.add(this);
  }

  kernelFd(): number {
    return this.closed ? -1 : (this.descriptorSink?.kernelFd() ?? -1);
  }

  /** From the kernel-side check: nothing acknowledged for stallMs with bytes waiting. */
  stalled(): void {
    this.close('slow_client');
  }

  /** Called with the reason once the connection is closed (immediately if it already is). */
  onClose(listener: (reason: CloseReason) => void): void {
    if (this.closed) listener(this.closeReason!);
    else this.closeListeners.push(listener);
  }

  /** Bytes outside the id sequence (retry hint, comments), written at once. */
  writeControl(bytes: Buffer): void {
    if (this.closed) return;
    this.write(bytes);
  }

  /** A live message from the hub. Never blocks, never throws. */
  push(id: number, frame: Buffer, keep = false, resync?: Resync): void {
    if (this.closed || id <= this.lastId) return;
    if (this.priming) {
      if (this.held.length >= MAX_HELD) {
        this.held.shift();
        this.dropped++;
      }
      this.held.push({ id, frame, keep, resync });
      return;
    }
    this.offer(id, frame, keep, resync);
  }

  /**
   * Ends the start-up phase: writes the backlog (the latest snapshot, or the missed ones from the history), in id
   * order and whatever the socket says, since a resumed client must get every one of them; then what arrived live
   * meanwhile, skipping ids already written.
   */
  prime(backlog: readonly FramedMessage[]): void {
    if (this.closed || !this.priming) return;
    // Backlog and held messages leave in one write where the sink can batch them.
    const corkable = isCorkable(this.sink) ? this.sink : undefined;
    corkable?.cork();
    for (const m of backlog) {
      if (m.id <= this.lastId) continue;
      this.backlogBytes += this.writeMessage(m.id, m.frame, m.keep, m.resync);
    }
    this.priming = false;
    const held = this.held.sort((a, b) => a.id - b.id);
    this.held = [];
    for (const m of held) this.offer(m.id, m.frame, m.keep, m.resync);
    corkable?.uncork();
  }

  /**
   * The hub's batched write: when this message would be written at once and the sink can take a direct write, counts
   * it as written and returns the socket's descriptor for the hub to send it; otherwise deals with it as push() does
   * and returns -1.
   */
  claim(id: number, frame: Buffer, keep = false, resync?: Resync): number {
    if (this.closed || id <= this.lastId) return -1;
    // A delta this client cannot apply goes through push(), which writes the full frame instead.
    const fd = this.priming || this.blocked || (resync && resync.base !== this.lastSnapshot) ? -1 : (this.descriptorSink?.directFd() ?? -1);
    if (fd < 0) {
      this.push(id, frame, keep, resync);
      return -1;
    }
    this.lastId = id;
    if (!keep) this.lastSnapshot = id;
    this.lastWrite = Date.now();
    return fd;
  }

  /** The batched write of a claimed frame came up short: the rest goes through the sink, which queues it. */
  settle(frame: Buffer, written: number): void {
    if (this.closed) return;
    // An error (the peer gone) surfaces as the sink's own write error and close.
    this.write(written > 0 ? frame.subarray(written) : frame);
  }

  private offer(id: number, frame: Buffer, keep = false, resync?: Resync): void {
    if (id <= this.lastId) return;
    if (!this.blocked) {
      this.writeMessage(id, frame, keep, resync);
      return;
    }
    if (this.pending) this.conflated++;
    if (keep) {
      // Queued in the sink behind what it holds; a pending (older) snapshot would now be out of order: drop it.
      this.pending = undefined;
      this.writeMessage(id, frame, keep);
    } else this.pending = { id, frame, resync };
    if (this.sink.bufferedBytes > this.options.maxBufferedBytes + this.backlogBytes) this.close('slow_client');
  }

  /** Writes a message: a delta only on top of its base, else its full frame. Returns the bytes written. */
  private writeMessage(id: number, frame: Buffer, keep = false, resync?: Resync): number {
    const bytes = resync && resync.base !== this.lastSnapshot ? resync.full : frame;
    this.lastId = id;
    if (!keep) this.lastSnapshot = id;
    this.write(bytes);
    return bytes.length;
  }

  private write(bytes: Buffer): void {
    this.lastWrite = Date.now();
    if (this.sink.write(bytes) || this.blocked) return;
    this.blocked = true;
    this.stallTimer = setTimeout(() => this.close('slow_client'), this.options.stallMs);
    this.stallTimer.unref();
  }

  private onDrain(): void {
    if (this.closed || !this.blocked) return;
    this.blocked = false;
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    const next = this.pending;
    this.pending = undefined;
    if (next && next.id > this.lastId) this.writeMessage(next.id, next.frame, false, next.resync);
  }

  /** From the wheel: nothing written for a whole heartbeat period. */
  beat(): void {
    if (this.closed) return;
    // A blocked client has bytes on the way already; a comment would only add to the pile.
    if (!this.blocked) this.write(HEARTBEAT_FRAME);
  }

  /**
   * Idempotent. `farewell` (e.g. a comment saying why) is written first when the client is still reading;
   * a slow client is cut off at once, since it would not read a farewell anyway.
   */
  close(reason: CloseReason, farewell?: Buffer): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.heartbeats.remove(this);
    this.options.kernelStalls?.remove(this);
    clearTimeout(this.stallTimer);
    if (this.pending) this.dropped++;
    this.pending = undefined;
    this.held = [];
    if (reason === 'slow_client') this.sink.destroy();
    else if (reason !== 'client_gone') {
      if (farewell && !this.blocked) this.sink.write(farewell);
      this.sink.end();
    }
    for (const l of this.closeListeners.splice(0)) l(reason);
  }
}
