import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startApiNode, startTogether, startWorker, uniquePrefix, type ApiNode, type ProjectProcess } from '../../scripts/processes.ts';
import { numsub } from '../../scripts/resp.ts';
import { runChurnClient } from '../fixtures/run-churn-client.ts';

// Reconnect storms must not leak: 20,000 connect/disconnect cycles from 4 client processes against one API node on a
// real Redis (a third of them read the first update, a third vanish as the first bytes arrive, mid-write, a third
// vanish right after asking). Afterwards the hub is empty, the node holds no Redis subscription (PUBSUB NUMSUB), and the
// heap after a forced GC is near its baseline (the node runs with --expose-gc, which enables POST /debug/gc).

const redisUrl = inject('redisUrl');
const prefix = uniquePrefix('churn');
const LOCATIONS = ['london', 'paris', 'tokyo'];
const CYCLES = 20_000;
const PROCESSES = 4;
let worker: ProjectProcess;
let node: ApiNode;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  const env = { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, TICK_MS: '1000', WORKER_LOCATIONS: LOCATIONS.join(','), LOG_LEVEL: 'warn' };
  [worker, node] = await startTogether<[ProjectProcess, ApiNode]>(
    startWorker({ ...env, LOG_LEVEL: 'info' }),
    startApiNode({ ...env, LOG_LEVEL: 'info', NODE_OPTIONS: '--expose-gc' }),
  );
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all([worker?.stop('SIGKILL'), node?.stop('SIGKILL')]);
});

const churn = (cycles: number, concurrency: number): Promise<Record<string, number>> =>
  runChurnClient(node.port, cycles, concurrency, `locations:${LOCATIONS.join(',')}`, children);

const heap = async (): Promise<number> => {
  const res = await fetch(`${node.url}/debug/gc`, { method: 'POST' });
  expect(res.status).toBe(200);
  return ((await res.json()) as { heapUsedBytes: number }).heapUsedBytes;
};
const hubClients = async (): Promise<number> => {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  return [...text.matchAll(/^orrery_clients_connected\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
};

it(`${CYCLES} connect/disconnect cycles (some vanishing mid-write) leave no client, no subscription, no heap growth`, async () => {
  // Warm-up: code paths compiled, caches filled, then the baseline.
  await churn(600, 20);
  await expect.poll(hubClients, { timeout: 10_000 }).toBe(0);
  const baseline = await heap();

  const started = Date.now();
  const results = await Promise.all(Array.from({ length: PROCESSES }, () => churn(CYCLES / PROCESSES, 25)));
  const seconds = (Date.now() - started) / 1000;
  const total = results.reduce<Record<string, number>>((acc, r) => {
    for (const [k, v] of Object.entries(r)) acc[k] = (acc[k] ?? 0) + v;
    return acc;
  }, {});
  console.info(`churn: ${CYCLES} cycles in ${seconds.toFixed(1)} s`, total);
  expect(total.read! + total.mid! + total.gone! + total.errors! + total.timeouts!).toBe(CYCLES);
  expect(total.timeouts).toBe(0);
  // Nearly every reader got its update (an error is a connection the loaded node reset, not a leak).
  expect(total.read).toBeGreaterThan(CYCLES / 3 - 50);

  await expect.poll(hubClients, { timeout: 15_000 }).toBe(0);
  for (const l of LOCATIONS) await expect.poll(() => numsub(redisUrl, `${prefix}sky:${l}`), { timeout: 10_000 }).toBe(0);
  const statusClients = async (): Promise<number> =>
    ((await (await fetch(`${node.url}/status`)).json()) as { totals: { clients: number } }).totals.clients;
  await expect.poll(statusClients, { timeout: 10_000 }).toBe(0);

  const after = await heap();
  console.info(`heap after GC: baseline ${(baseline / 1e6).toFixed(1)} MB, after churn ${(after / 1e6).toFixed(1)} MB`);
  expect(after).toBeLessThan(baseline + 16 * 1024 * 1024);
  expect(node.child.exitCode).toBeNull();
  expect(node.text()).toBe('');
  // Still serving.
  const res = await fetch(`${node.url}/healthz`);
  expect(res.status).toBe(200);
});
