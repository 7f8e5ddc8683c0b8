import { fork } from 'node:child_process';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { createMemoryBroker } from '../src/broker/memory.ts';
import { createApp } from '../src/http/app.ts';
import { Hub } from '../src/hub/hub.ts';
import { silentLogger } from '../src/log.ts';

// Fan-out cost of one API process: N SSE clients on one channel, M messages of a snapshot's size.
// Compares writing to the Node response directly (`node`, the default) with a ReadableStream body piped by
// @hono/node-server (`web`, what Hono's streaming helpers do). The clients run in a child process, so the CPU figure
// is the server's alone.
//
//   node --import tsx bench/stream-fanout.ts [--clients 1000] [--messages 40] [--interval 100] [--bytes 2500]

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '40' },
    interval: { type: 'string', default: '100' },
    bytes: { type: 'string', default: '2500' },
    role: { type: 'string', default: 'server' },
    port: { type: 'string', default: '0' },
  },
});
const CLIENTS = Math.min(Number(values.clients), 5000);
const MESSAGES = Math.min(Number(values.messages), 500);
const INTERVAL = Number(values.interval);
const BYTES = Number(values.bytes);
const now = (): number => performance.timeOrigin + performance.now();

/** Child: open the clients, record when each id arrives, report to the parent on request. */
async function clients(port: number): Promise<void> {
  const arrivals: Record<number, number[]> = {};
  const reqs: ReturnType<typeof request>[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    await new Promise<void>((resolve) => {
      const req = request({ port, host: '127.0.0.1', path: '/stream/london', agent: false }, (res) => {
        res.setEncoding('utf8');
        let tail = '';
        res.on('data', (chunk: string) => {
          const t = now();
          const text = tail + chunk;
          for (const m of text.matchAll(/^id: (\d+)$/gm)) (arrivals[Number(m[1])] ??= []).push(t);
          tail = text.slice(text.lastIndexOf('\n') + 1);
        });
        resolve();
      });
      reqs.push(req);
      req.end();
    });
  }
  process.send!({ ready: true });
  process.on('message', () => {
    for (const r of reqs) r.destroy();
    process.send!({ arrivals }, () => process.exit(0));
  });
}

async function run(transport: 'node' | 'web') {
  const broker = createMemoryBroker({ historyLimit: 10 });
  const hub = new Hub(broker, silentLogger);
  const app = createApp({ stream: { hub, heartbeatMs: 60_000 } });
  // Without the Node bindings in its env, a stream gets a web ReadableStream body (http/sse-endpoint.ts).
  const fetch = transport === 'web' ? (request: Request) => app.fetch(request, {}) : app.fetch;
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  const child = fork(new URL(import.meta.url).pathname, ['--role', 'clients', '--port', String(port), '--clients', String(CLIENTS)], {
    execArgv: ['--import', 'tsx'],
  });
  await new Promise((r) => child.once('message', r));
  while (hub.stats().clients < CLIENTS) await new Promise((r) => setTimeout(r, 10));

  const sentAt = new Map<number, number>();
  const cpu0 = process.cpuUsage();
  let syncMs = 0;
  for (let i = 1; i <= MESSAGES; i++) {
    const id = 1_000_000 + i;
    const data = JSON.stringify({ time: new Date(id).toISOString(), pad: 'x'.repeat(BYTES) });
    const s = now();
    sentAt.set(id, s);
    await broker.publish([{ channel: 'london', id, data }]);
    syncMs += now() - s;
    await new Promise((r) => setTimeout(r, INTERVAL));
  }
  await new Promise((r) => setTimeout(r, 1000));
  const cpu = process.cpuUsage(cpu0);
  const report = new Promise<{ arrivals: Record<number, number[]> }>((r) => child.once('message', r as never));
  child.send('done');
  const { arrivals } = await report;
  await new Promise((r) => child.once('exit', r));
  server.close();
  server.closeAllConnections();

  const lat: number[] = [];
  const lastClient: number[] = [];
  let delivered = 0;
  for (const [id, times] of Object.entries(arrivals)) {
    const sent = sentAt.get(Number(id));
    if (sent === undefined) continue;
    delivered += times.length;
    for (const t of times) lat.push(t - sent);
    lastClient.push(Math.max(...times) - sent);
  }
  lat.sort((a, b) => a - b);
  lastClient.sort((a, b) => a - b);
  const pct = (a: number[], p: number) => Math.round(a[Math.min(a.length - 1, Math.floor(p * a.length))]! * 10) / 10;
  return {
    transport,
    clients: CLIENTS,
    messages: MESSAGES,
    delivered: `${delivered}/${CLIENTS * MESSAGES}`,
    serverCpuMsPerMessage: Math.round(((cpu.user + cpu.system) / 1000 / MESSAGES) * 10) / 10,
    publishSyncMsPerMessage: Math.round((syncMs / MESSAGES) * 100) / 100,
    latencyMs: { p50: pct(lat, 0.5), p99: pct(lat, 0.99), lastClientP50: pct(lastClient, 0.5), lastClientP99: pct(lastClient, 0.99) },
  };
}

if (values.role === 'clients') await clients(Number(values.port));
else for (const t of ['node', 'web', 'node', 'web'] as const) console.log(JSON.stringify(await run(t)));
