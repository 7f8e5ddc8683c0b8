import { fork } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { createMemoryBroker } from '../../src/broker/memory.ts';
import { createApp } from '../../src/http/app.ts';
import { installStreamFront } from '../../src/fastpath/index.ts';
import { Hub } from '../../src/hub/hub.ts';
import { silentLogger } from '../../src/log.ts';
import type { Plan } from './load-client.ts';

// Memory one open stream costs an API process: the app in this process (memory broker), N streams from a load-client
// process, heap and RSS measured after full GCs before and after. --front off serves them through Node's
// http.ServerResponse instead of the bare-socket front (src/fastpath/stream-front.ts), for the comparison.
//
//   node --expose-gc --import tsx bench/fanout/memory-per-stream.ts [--clients 15000] [--front on|off]

const { values } = parseArgs({ options: { clients: { type: 'string', default: '15000' }, front: { type: 'string', default: 'on' } } });
const N = Math.min(Math.max(Number(values.clients), 100), 19_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const broker = createMemoryBroker({ historyLimit: 10 });
const hub = new Hub(broker, silentLogger);
const app = createApp({ stream: { hub, heartbeatMs: 15_000 } });
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
await new Promise((r) => server.once('listening', r));
if (values.front === 'on') installStreamFront(server, { fetch: app.fetch as never, maxHeaderBytes: 16 * 1024 });
const port = (server.address() as AddressInfo).port;
const snapshot = (id: number): { channel: string; id: number; data: string } => ({
  channel: 'london',
  id,
  data: JSON.stringify({ time: new Date(id).toISOString(), pad: 'x'.repeat(3000), publishedAt: Date.now() }),
});
await broker.publish([snapshot(1_000_000)]);

const client = fork(fileURLToPath(new URL('./load-client.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
const settle = async (): Promise<NodeJS.MemoryUsage> => {
  for (let i = 0; i < 4; i++) gc();
  await new Promise((r) => setTimeout(r, 300));
  gc();
  return process.memoryUsage();
};
const before = await settle();
const plan: Plan = {
  type: 'plan',
  host: '127.0.0.1',
  paths: ['/stream/london'],
  connections: Array.from({ length: N }, (_, i) => [port, 0, `127.0.0.${2 + Math.floor(i / 5000)}`]),
  concurrency: 100,
};
client.send(plan);
await new Promise<void>((resolve) => client.on('message', (m: { type: string }) => m.type === 'connected' && resolve()));
for (let i = 1; i <= 3; i++) {
  await broker.publish([snapshot(1_000_000 + i * 1000)]);
  await new Promise((r) => setTimeout(r, 300));
}
const after = await settle();
const per = (k: keyof NodeJS.MemoryUsage): number => Math.round((after[k] - before[k]) / N);
console.log(
  JSON.stringify({ front: values.front, streams: hub.stats().clients, perStreamBytes: { rss: per('rss'), heapTotal: per('heapTotal'), heapUsed: per('heapUsed'), external: per('external') } }),
);
client.kill();
process.exit(0);
