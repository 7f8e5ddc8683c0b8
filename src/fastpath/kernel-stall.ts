import { loadFanoutAddon } from './native-addon.ts';

// Slow clients the kernel hides. A client that stops reading leaves its bytes in the server's socket send buffer,
// which Linux grows up to megabytes per socket: Node's writes keep succeeding, so its own stall timer (which starts
// only when a write is refused) never starts, and that memory is unbounded in the number of such clients.
// This watch asks the kernel instead, a slice of the sockets at a time on a timer, never per message: a socket with
// unacknowledged bytes whose peer has acknowledged nothing since the previous look has made no progress; one that
// makes none for `stallMs` is closed. A client that reads at all, however slowly, acknowledges something between
// looks and is never closed by this watch.

export interface KernelQueueProbe {
  /** queued[i]: bytes of fds[i] not yet acknowledged (-errno on failure); acked[i]: bytes acknowledged ever (-1: unknown) */
  kernelQueues(fds: Int32Array, count: number, queued: Int32Array, acked: Float64Array): void;
}

/** The native probe (dist/fanout.node, Linux), or undefined where there is none. */
export function loadKernelQueueProbe(): KernelQueueProbe | undefined {
  const loaded = loadFanoutAddon();
  if ('error' in loaded || typeof loaded.addon.kernelQueues !== 'function') return undefined;
  return { kernelQueues: loaded.addon.kernelQueues as KernelQueueProbe['kernelQueues'] };
}

export interface Watched {
  /** the socket's descriptor, -1 once it is gone */
  kernelFd(): number;
  /** no progress for stallMs */
  stalled(): void;
}

interface Entry {
  /** acknowledged bytes at the last look that saw progress */
  acked: number;
  /** when progress was last seen */
  progressAt: number;
}

const TICK_MS = 200;

export class KernelStallWatch {
  private readonly entries = new Map<Watched, Entry>();
  private cursor: Iterator<[Watched, Entry]> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scratch = { fds: new Int32Array(64), queued: new Int32Array(64), acked: new Float64Array(64), members: [] as Watched[] };
  /** each socket is looked at about this often */
  readonly roundMs: number;

  constructor(
    private readonly probe: KernelQueueProbe,
    private readonly stallMs: number,
  ) {
    // Progress is seen up to a round after it stopped, and the close comes up to a round after stallMs: eight rounds
    // per stallMs keep that within a quarter of it; capped, so a long stallMs does not leave a stall unseen for long.
    this.roundMs = Math.min(Math.max(Math.floor(stallMs / 8), TICK_MS), 2000);
  }

  add(member: Watched): void {
    this.entries.set(member, { acked: -1, progressAt: Date.now() });
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    }
  }

  remove(member: Watched): void {
    this.entries.delete(member);
    if (this.entries.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.cursor = undefined;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** One slice: enough sockets that every one is looked at once per round. */
  private tick(): void {
    const want = Math.ceil((this.entries.size * TICK_MS) / this.roundMs);
    if (this.scratch.fds.length < want) {
      const n = Math.max(want, this.scratch.fds.length * 2);
      this.scratch = { fds: new Int32Array(n), queued: new Int32Array(n), acked: new Float64Array(n), members: [] };
    }
    const { fds, queued, acked, members } = this.scratch;
    let count = 0;
    let wrapped = false;
    // A Map iterator visits entries added after it was made and skips deleted ones; at its end a new round begins
    // (at most once per tick, so sockets that are all closing cannot keep this loop going).
    while (count < want) {
      this.cursor ??= this.entries.entries();
      const next = this.cursor.next();
      if (next.done) {
        this.cursor = undefined;
        if (wrapped || count > 0) break;
        wrapped = true;
        continue;
      }
      const fd = next.value[0].kernelFd();
      if (fd < 0) continue;
      fds[count] = fd;
      members[count++] = next.value[0];
    }
    if (count === 0) return;
    this.probe.kernelQueues(fds, count, queued, acked);
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      const member = members[i]!;
      members[i] = undefined as unknown as Watched;
      const entry = this.entries.get(member);
      if (!entry) continue;
      const q = queued[i]!;
      // Nothing waiting, the counter moved, or the probe failed (the socket's own error path deals with that).
      if (q <= 0 || acked[i]! < 0 || acked[i] !== entry.acked) {
        entry.acked = acked[i]!;
        entry.progressAt = now;
        continue;
      }
      if (now - entry.progressAt >= this.stallMs) {
        this.entries.delete(member);
        member.stalled();
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.entries.clear();
  }
}
