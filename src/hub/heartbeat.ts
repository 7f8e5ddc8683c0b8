// Heartbeats for many connections on one timer. A connection records when it last wrote (a number, no timer touched
// per message); the wheel visits each connection about once per interval, at the slot of its due time, and either
// sends the comment (idle for a whole interval) or moves the connection to the slot its last write makes due.
// Slots are `granularityMs` wide: a beat may come up to one slot late, which a keep-alive comment can afford.

export interface Beating {
  /** Date.now() of the connection's last write */
  lastWrite: number;
  /** the slot this connection waits in (-1: none); owned by the wheel */
  heartbeatSlot: number;
  /** a closed member is never rescheduled */
  readonly closed: boolean;
  /** idle for a whole interval: send the comment (and update lastWrite if it wrote) */
  beat(): void;
}

export class HeartbeatWheel {
  private readonly buckets = new Map<number, Set<Beating>>();
  /** slot instants with a bucket, ascending */
  private readonly slots: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = -1;

  /**
   * @param intervalMs an idle connection gets a beat this often
   * @param granularityMs slot width; default: 1/60 of the interval (at least 1 ms)
   */
  constructor(
    readonly intervalMs: number,
    private readonly granularityMs = Math.max(1, Math.floor(intervalMs / 60)),
  ) {}

  /** Starts beating for `member`, idle from now. */
  add(member: Beating): void {
    member.lastWrite = Date.now();
    this.schedule(member, member.lastWrite + this.intervalMs);
  }

  remove(member: Beating): void {
    if (member.heartbeatSlot < 0) return;
    this.buckets.get(member.heartbeatSlot)?.delete(member);
    member.heartbeatSlot = -1;
  }

  /** Connections waiting for a beat (for tests and stats). */
  get size(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.size;
    return n;
  }

  private schedule(member: Beating, due: number): void {
    const slot = Math.ceil(due / this.granularityMs) * this.granularityMs;
    member.heartbeatSlot = slot;
    let bucket = this.buckets.get(slot);
    if (!bucket) {
      bucket = new Set();
      this.buckets.set(slot, bucket);
      // Few distinct slots (about interval / granularity): a sorted insert is cheap.
      let i = this.slots.length;
      while (i > 0 && this.slots[i - 1]! > slot) i--;
      this.slots.splice(i, 0, slot);
    }
    bucket.add(member);
    this.arm();
  }

  private arm(): void {
    const first = this.slots[0];
    if (first === undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.armedFor = -1;
      return;
    }
    if (this.timer && this.armedFor === first) return;
    clearTimeout(this.timer);
    this.armedFor = first;
    this.timer = setTimeout(() => this.fire(), Math.max(0, first - Date.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = -1;
    const now = Date.now();
    while (this.slots.length > 0 && this.slots[0]! <= now) {
      const slot = this.slots.shift()!;
      const bucket = this.buckets.get(slot)!;
      this.buckets.delete(slot);
      for (const member of bucket) {
        member.heartbeatSlot = -1;
        const due = member.lastWrite + this.intervalMs;
        if (due <= now) {
          member.beat();
          // A write that failed may have closed it meanwhile.
          if (!member.closed && member.heartbeatSlot === -1) this.schedule(member, now + this.intervalMs);
        } else if (!member.closed) {
          this.schedule(member, due);
        }
      }
    }
    this.arm();
  }
}
