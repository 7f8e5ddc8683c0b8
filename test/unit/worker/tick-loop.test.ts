import { expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.ts';
import { startTickLoop } from '../../../src/worker/tick-loop.ts';

// Real timers, short periods; assertions are about slots and order, not about how fast this machine is.

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
  await new Promise((r) => setTimeout(r, 650));
  await loop.stop();
  expect(slots.length).toBeGreaterThanOrEqual(3);
  for (const s of slots) expect(s % 100).toBe(0);
  for (let i = 1; i < slots.length; i++) expect(slots[i]!).toBeGreaterThan(slots[i - 1]!);
  // A tick never fires before its instant.
  slots.forEach((s, i) => expect(firedAt[i]!).toBeGreaterThanOrEqual(s - 1));
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
  await new Promise((r) => setTimeout(r, 900));
  await loop.stop();
  expect(running).toBe(0);
  expect(finished).toBe(slots.length);
  expect(maxRunning).toBe(1);
  for (let i = 1; i < slots.length; i++) expect(slots[i]! - slots[i - 1]!).toBeGreaterThanOrEqual(300);
  expect(loop.stats().ticks).toBe(slots.length);
  const after = slots.length;
  await new Promise((r) => setTimeout(r, 300));
  expect(slots.length).toBe(after);
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
  await new Promise((r) => setTimeout(r, 450));
  await loop.stop();
  expect(n).toBeGreaterThanOrEqual(2);
  expect(loop.stats().failed).toBe(n);
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
  await new Promise((r) => setTimeout(r, 1300));
  await loop.stop();
  const { ticks, skipped } = loop.stats();
  expect(ticks).toBe(slots.length);
  expect(skipped).toBeGreaterThanOrEqual(6);
  expect(ticks + skipped).toBe((slots.at(-1)! - slots[0]!) / 100 + 1);
  // Two overruns within a minute: one warning, not one per overrun and not only one per process forever.
  expect(warnings.length).toBe(1);
});
