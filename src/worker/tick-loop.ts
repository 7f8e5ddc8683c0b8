import type { Logger } from '../log.ts';

// The clock of the worker: one tick per period, on wall-clock multiples of the period (every process agrees on the
// instants, and the instant is the message id). One tick at a time: a tick that overruns makes the loop skip to the
// next free slot instead of piling up. stop() lets the tick in progress finish.

export type TickReport = Record<string, unknown>;

export interface TickLoopOptions {
  periodMs: number;
  /** Does the tick's work for the instant `tickMs` (epoch ms); may report fields for the log line. */
  tick: (tickMs: number) => Promise<TickReport | void> | TickReport | void;
  log: Logger;
  /** an info summary this often (default 60 s); each tick is logged at debug */
  summaryEveryMs?: number;
  /** called after every tick with its duration (metrics, presence) */
  onTick?: (ms: number, tickMs: number) => void;
}

export interface TickStats {
  ticks: number;
  /** slots passed over because the previous tick was still running or the process was stalled */
  skipped: number;
  failed: number;
  lastDurationMs: number;
  maxDurationMs: number;
}

export interface TickLoop {
  /** Stops scheduling; resolves when the tick in progress (if any) has finished. */
  stop(): Promise<void>;
  stats(): TickStats;
}

export function startTickLoop(options: TickLoopOptions): TickLoop {
  const loop = new Ticker(options);
  loop.schedule();
  return loop;
}

/** Ticks of the current summary period. */
interface SummaryWindow {
  ticks: number;
  totalMs: number;
  maxMs: number;
  skipped: number;
  since: number;
}

const newWindow = (): SummaryWindow => ({ ticks: 0, totalMs: 0, maxMs: 0, skipped: 0, since: Date.now() });

class Ticker implements TickLoop {
  private readonly periodMs: number;
  private readonly log: Logger;
  private readonly summaryEveryMs: number;
  private readonly counts: TickStats = { ticks: 0, skipped: 0, failed: 0, lastDurationMs: 0, maxDurationMs: 0 };
  private window = newWindow();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastSlot = -Infinity;
  /** overruns since the last warning, and when that was */
  private overruns = 0;
  private warnedAt = -Infinity;

  constructor(private readonly options: TickLoopOptions) {
    this.periodMs = options.periodMs;
    this.log = options.log;
    this.summaryEveryMs = options.summaryEveryMs ?? 60_000;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  stats(): TickStats {
    return { ...this.counts };
  }

  schedule(): void {
    if (this.stopped) return;
    const { periodMs, lastSlot } = this;
    const now = Date.now();
    const next = Math.max(Math.ceil(now / periodMs) * periodMs, lastSlot + periodMs);
    // The slots between the last tick and the next one passed while a tick ran (or the process was stopped).
    if (lastSlot !== -Infinity) this.skip((next - lastSlot) / periodMs - 1);
    this.timer = setTimeout(() => {
      this.running = this.run(next).finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, next - now);
  }

  private skip(slots: number): void {
    this.counts.skipped += slots;
    this.window.skipped += slots;
  }

  private async run(slot: number): Promise<void> {
    const started = Date.now();
    // Timers fire late when the event loop was busy: a slot that is a whole period old is worthless, use the newest.
    const late = Math.floor((started - slot) / this.periodMs);
    if (late > 0) {
      this.skip(late);
      slot += late * this.periodMs;
    }
    this.lastSlot = slot;
    let report: TickReport | void = undefined;
    try {
      report = await this.options.tick(slot);
    } catch (err) {
      this.counts.failed++;
      this.log.error({ err, tick: slot }, 'tick failed');
    }
    const ms = Date.now() - started;
    this.record(ms);
    this.log.debug({ tick: slot, ms, ...report }, 'tick');
    this.options.onTick?.(ms, slot);
    if (ms > this.periodMs) this.overran(slot, ms);
    if (Date.now() - this.window.since >= this.summaryEveryMs) this.summarise();
  }

  private record(ms: number): void {
    const { counts, window } = this;
    counts.ticks++;
    counts.lastDurationMs = ms;
    counts.maxDurationMs = Math.max(counts.maxDurationMs, ms);
    window.ticks++;
    window.totalMs += ms;
    window.maxMs = Math.max(window.maxMs, ms);
  }

  private overran(slot: number, ms: number): void {
    this.overruns++;
    // At most one warning per summary period, saying how many overran since the previous one.
    if (Date.now() - this.warnedAt < this.summaryEveryMs) return;
    this.warnedAt = Date.now();
    this.log.warn(
      { tick: slot, ms, periodMs: this.periodMs, overruns: this.overruns },
      'tick took longer than the period; slots are skipped (warned at most once per summary period)',
    );
    this.overruns = 0;
  }

  private summarise(): void {
    const w = this.window;
    this.log.info(
      { ticks: w.ticks, meanMs: Math.round((w.totalMs / w.ticks) * 10) / 10, maxMs: w.maxMs, skipped: w.skipped },
      'tick summary',
    );
    this.window = newWindow();
  }
}
