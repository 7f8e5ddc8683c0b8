import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiNode, type ApiNode } from '../../scripts/processes.ts';
import { runChurnClient } from '../fixtures/run-churn-client.ts';

// Spot churn must not leak: 10,000 distinct exact spots (each its own cell) opened and closed against one embedded
// node (`npm start`, no Redis), from 2 client processes, a third of them reading the first update, a third vanishing as
// the first bytes arrive, a third right after asking. Afterwards no cell, no spot observer and no stream client is
// left, and the heap after a forced GC is near its baseline (the node runs with --expose-gc: POST /debug/gc).

const CYCLES = 10_000;
const PROCESSES = 2;
let node: ApiNode;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  node = await startApiNode({
    TICK_MS: '1000',
    WORKER_LOCATIONS: 'london',
    LOG_LEVEL: 'info',
    ACCESS_LOG: 'off',
    MAX_STREAMS_PER_CLIENT: '0',
    MAX_SPOTS_PER_CLIENT: '0',
    MAX_PENDING_HEADS_PER_CLIENT: '1000',
    NODE_OPTIONS: '--expose-gc',
  });
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await node?.stop('SIGKILL');
});

const churn = (first: number, cycles: number, concurrency: number): Promise<Record<string, number>> =>
  runChurnClient(node.port, cycles, concurrency, `spots:${first}`, children);

const metrics = async (): Promise<Record<string, number>> => {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const out: Record<string, number> = { clients: 0 };
  for (const m of text.matchAll(/^(orrery_spot_\w+)(?:\{[^}]*\})? (\S+)$/gm)) out[m[1]!] = Number(m[2]);
  for (const m of text.matchAll(/^orrery_clients_connected\{[^}]*\} (\d+)$/gm)) out.clients! += Number(m[1]);
  return out;
};
const heap = async (): Promise<number> => {
  const res = await fetch(`${node.url}/debug/gc`, { method: 'POST' });
  expect(res.status).toBe(200);
  return ((await res.json()) as { heapUsedBytes: number }).heapUsedBytes;
};
const leftovers = async (): Promise<number[]> => {
  const m = await metrics();
  return [m.orrery_spot_cells_active!, m.orrery_spot_observers_active!, m.clients!];
};

it(`${CYCLES} distinct spots opened and closed leave no cell, no observer, no client, no heap growth`, async () => {
  // Warm-up (code compiled, the interpolation spans and constellation cells filled), then the baseline.
  await churn(1_000_000, 300, 20);
  await expect.poll(leftovers, { timeout: 15_000 }).toEqual([0, 0, 0]);
  const baseline = await heap();

  const started = Date.now();
  const per = CYCLES / PROCESSES;
  const results = await Promise.all(Array.from({ length: PROCESSES }, (_, p) => churn(p * per, per, 25)));
  const total = results.reduce<Record<string, number>>((acc, r) => {
    for (const [k, v] of Object.entries(r)) acc[k] = (acc[k] ?? 0) + v;
    return acc;
  }, {});
  console.info(`spot churn: ${CYCLES} distinct spots in ${((Date.now() - started) / 1000).toFixed(1)} s`, total);
  expect(Object.values(total).reduce((a, b) => a + b, 0)).toBe(CYCLES);
  expect(total.timeouts).toBe(0);
  expect(total.refused).toBe(0);
  expect(total.read).toBeGreaterThan(CYCLES / 3 - 50);
  const m = await metrics();
  // Thousands of distinct cells were computed (the readers' first updates at least).
  expect(m.orrery_spot_replays_total! + m.orrery_spot_cell_computations_total!).toBeGreaterThan(CYCLES / 3 - 50);

  await expect.poll(leftovers, { timeout: 20_000 }).toEqual([0, 0, 0]);
  // Spots stay out of the presence counts and the public activity feed (their channels name viewers' coordinates).
  const status = await (await fetch(`${node.url}/status`)).text();
  expect(status).toContain('"totals"');
  expect(status).not.toContain('spot:');
  const after = await heap();
  console.info(`heap after GC: baseline ${(baseline / 1e6).toFixed(1)} MB, after spot churn ${(after / 1e6).toFixed(1)} MB`);
  expect(after).toBeLessThan(baseline + 16 * 1024 * 1024);
  expect(node.child.exitCode).toBeNull();
  expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
});
