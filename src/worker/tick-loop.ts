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
  const { periodMs, log } = options;
  const summaryEveryMs = options.summaryEveryMs ?? 60_000;
  const stats: TickStats = { ticks: 0, skipped: 0, failed: 0, lastDurationMs: 0, maxDurationMs: 0 };
  let window = { ticks: 0, totalMs: 0, maxMs: 0, skipped: 0, since: Date.now() };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let lastSlot = -Infinity;
  /** overruns since the last warning, and when that was */
  let overruns = 0;
  let warnedAt = -Infinity;

  const skip = (slots: number): void => {
    stats.skipped += slots;
    window.skipped += slots;
  };

  const schedule = (): void => {
    if (stopped) return;
    const now = Date.now();
    const next = Math.max(Math.ceil(now / periodMs) * periodMs, lastSlot + periodMs);
    // The slots between the last tick and the next one passed while a tick ran (or the process was stopped).
    if (lastSlot !== -Infinity) skip((next - lastSlot) / periodMs - 1);
    timer = setTimeout(() => {
      running = run(next).finally(() => {
        running = undefined;
        schedule();
      });
    }, next - now);
  };

  const run = async (slot: number): Promise<void> => {
    const started = Date.now();
    // Timers fire late when the event loop was busy: a slot that is a whole period old is worthless, use the newest.
    const late = Math.floor((started - slot) / periodMs);
    if (late > 0) {
      skip(late);
      slot += late * periodMs;
    }
    lastSlot = slot;
    let report: TickReport | void = undefined;
    try {
      report = await options.tick(slot);
    } catch (err) {
      stats.failed++;
      log.error({ err, tick: slot }, 'tick failed');
    }
    const ms = Date.now() - started;
    stats.ticks++;
    stats.lastDurationMs = ms;
    stats.maxDurationMs = Math.max(stats.maxDurationMs, ms);
    window.ticks++;
    window.totalMs += ms;
    window.maxMs = Math.max(window.maxMs, ms);
    log.debug({ tick: slot, ms, ...report }, 'tick');
    options.onTick?.(ms, slot);
    if (ms > periodMs) {
      overruns++;
      // At most one warning per summary period, saying how many overran since the previous one.
      if (Date.now() - warnedAt >= summaryEveryMs) {
        warnedAt = Date.now();
        log.warn({ tick: slot, ms, periodMs, overruns }, 'tick took longer than the period; slots are skipped (warned at most once per summary period)');
        overruns = 0;
      }
    }
    if (Date.now() - window.since >= summaryEveryMs) {
      log.info(
        {
          ticks: window.ticks,
          meanMs: Math.round((window.totalMs / window.ticks) * 10) / 10,
          maxMs: window.maxMs,
          skipped: window.skipped,
        },
        'tick summary',
      );
      window = { ticks: 0, totalMs: 0, maxMs: 0, skipped: 0, since: Date.now() };
    }
  };

  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    stats: () => ({ ...stats }),
  };
}
