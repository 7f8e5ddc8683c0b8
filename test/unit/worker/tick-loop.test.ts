import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { startTickLoop } from '../../../src/worker/tick-loop.ts';

// Fake timers and clock: the loop's slots, order, overruns and stop are checked exactly, whatever the machine's speed.
const START = 1_000_050; // half a period before a slot

beforeEach(() => {
  vi.useFakeTimers({ now: START, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

it('ticks on wall-clock multiples of the period, one at a time', async () => {
  const slots: number[] = [];
  const firedAt: number[] = [];
  const loop = startTickLoop({
    periodMs: 100,
    log: silentLogger,
    tick: (slot) => {
      slots.push(slot);
      firedAt.push(Date.now());
    },
  });
  await vi.advanceTimersByTimeAsync(650);
  await loop.stop();
  expect(slots).toEqual([1_000_100, 1_000_200, 1_000_300, 1_000_400, 1_000_500, 1_000_600, 1_000_700]);
  // Each tick fires at its instant, not before.
  expect(firedAt).toEqual(slots);
  expect(loop.stats()).toMatchObject({ ticks: 7, skipped: 0, failed: 0 });
});

it('skips the slots a long tick overran instead of piling up, and stop() waits for the tick in progress', async () => {
  const slots: number[] = [];
  let running = 0;
  let maxRunning = 0;
  let finished = 0;
  const loop = startTickLoop({
    periodMs: 100,
    log: silentLogger,
    tick: async (slot) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      slots.push(slot);
      await new Promise((r) => setTimeout(r, 250));
      running--;
      finished++;
    },
  });
  // Ticks of 250 ms at 100 ms slots: each one starts at the first slot after the previous one ended.
  await vi.advanceTimersByTimeAsync(800);
  expect(slots).toEqual([1_000_100, 1_000_400, 1_000_700]);
  expect(running).toBe(1); // the third is in progress (until 1_000_950)
  let stopped = false;
  const stopping = loop.stop().then(() => (stopped = true));
  await vi.advanceTimersByTimeAsync(50);
  expect(stopped).toBe(false);
  await vi.advanceTimersByTimeAsync(100);
  await stopping;
  expect(running).toBe(0);
  expect(finished).toBe(3);
  expect(maxRunning).toBe(1);
  expect(loop.stats().ticks).toBe(3);
  // Nothing after stop.
  await vi.advanceTimersByTimeAsync(1000);
  expect(slots).toHaveLength(3);
});

it('a tick that throws is counted and the loop goes on', async () => {
  let n = 0;
  const loop = startTickLoop({
    periodMs: 100,
    log: silentLogger,
    tick: () => {
      n++;
      throw new Error('boom');
    },
  });
  await vi.advanceTimersByTimeAsync(450);
  await loop.stop();
  expect(n).toBe(5);
  expect(loop.stats().failed).toBe(5);
});

it('a timer that fires late (a busy event loop) skips to the newest slot and counts the ones it missed', async () => {
  const slots: number[] = [];
  let firedAt = 0;
  const loop = startTickLoop({
    periodMs: 100,
    log: silentLogger,
    tick: (slot) => {
      slots.push(slot);
      firedAt = Date.now();
    },
  });
  // The clock jumps a quarter second past the first slot before its timer gets to run.
  vi.setSystemTime(START + 300);
  await vi.advanceTimersByTimeAsync(50);
  await loop.stop();
  expect(slots).toHaveLength(1);
  expect(firedAt).toBeGreaterThanOrEqual(1_000_350);
  expect(slots[0]).toBe(Math.floor(firedAt / 100) * 100);
  expect(loop.stats().skipped).toBe((slots[0]! - 1_000_100) / 100);
});

it('counts every slot passed over (issue 14): ticked + skipped covers each slot from the first tick to the last', async () => {
  const slots: number[] = [];
  const warnings: unknown[] = [];
  const log = { ...silentLogger, warn: (obj: unknown) => void warnings.push(obj), child: () => log } as unknown as typeof silentLogger;
  const loop = startTickLoop({
    periodMs: 100,
    log,
    tick: async (slot) => {
      slots.push(slot);
      // Two stalls of a few periods each (a Redis that hangs, a process stopped for a moment).
      if (slots.length === 2 || slots.length === 4) await new Promise((r) => setTimeout(r, 350));
    },
  });
  await vi.advanceTimersByTimeAsync(1300);
  const stopping = loop.stop();
  await vi.advanceTimersByTimeAsync(400); // a stall in progress ends
  await stopping;
  const { ticks, skipped } = loop.stats();
  expect(ticks).toBe(slots.length);
  expect(skipped).toBe(6); // 300–500 ms and 800–1000 ms past the start
  expect(ticks + skipped).toBe((slots.at(-1)! - slots[0]!) / 100 + 1);
  // Two overruns within a minute: one warning, not one per overrun and not only one per process forever.
  expect(warnings.length).toBe(1);
});
