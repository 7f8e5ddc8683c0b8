import { parseArgs } from 'node:util';
import { openSse, type SseClient } from './sse-client.ts';
import { startStack } from './stack.ts';

// How long a snapshot takes from the worker's publish (Snapshot.publishedAt) to an SSE client, through
// nginx and directly from an API node, on the process stack. Loopback only, bounded clients and ticks.
//   node --import tsx scripts/stack-latency.ts [--clients 50] [--ticks 20]   (TICK_MS, WORKER_LOCATIONS apply)

const { values } = parseArgs({ options: { clients: { type: 'string', default: '50' }, ticks: { type: 'string', default: '20' } } });
const clients = Number(values.clients);
const ticks = Number(values.ticks);
if (!Number.isInteger(clients) || clients < 1 || clients > 500) throw new Error('--clients must be 1..500');
if (!Number.isInteger(ticks) || ticks < 2 || ticks > 300) throw new Error('--ticks must be 2..300');

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function measure(label: string, url: string, tickMs: number): Promise<void> {
  const cs: SseClient[] = Array.from({ length: clients }, () => openSse(url, { reconnect: false }));
  try {
    // +1: the first event of each stream is the replayed latest snapshot, not a live delivery.
    await Promise.all(cs.map((c) => c.waitFor('live events', (ev) => ev.length >= ticks + 1, (ticks + 5) * tickMs + 10_000)));
    const delays = cs
      .flatMap((c) => c.events.slice(1, ticks + 1).map((e) => e.receivedAt - (JSON.parse(e.data) as { publishedAt: number }).publishedAt))
      .sort((a, b) => a - b);
    console.log(
      `${label.padEnd(22)} ${String(delays.length).padStart(6)} events   p50 ${percentile(delays, 50)} ms   p95 ${percentile(delays, 95)} ms   p99 ${percentile(delays, 99)} ms   max ${delays.at(-1)} ms`,
    );
  } finally {
    for (const c of cs) c.close();
  }
}

const stack = await startStack({
  streamsPerClient: clients + 1,
  env: { LOG_LEVEL: 'warn', WORKER_LOCATIONS: process.env.WORKER_LOCATIONS ?? 'london,paris,tokyo' },
});
try {
  console.log(`${clients} clients x ${ticks} ticks of /stream/london, tick ${stack.tickMs} ms (publishedAt -> client receive)`);
  await measure('through nginx', `${stack.url}/stream/london`, stack.tickMs);
  await measure('direct to api1', `${stack.apiUrls[0]}/stream/london`, stack.tickMs);
} finally {
  await stack.stop();
}
