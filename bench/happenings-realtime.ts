// Real-time check of live happenings: an embedded server (memory broker, the whole grid) on a free loopback port, every
// location's stream read for a while after the worker's warm-up, and each `sky-event`'s delay from its own instant.
//
//   node --import tsx bench/happenings-realtime.ts [warm-up seconds, default 200] [watch seconds, default 150]
//
// Stops the server it started (by its process group) and exits.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

const WARM_S = Number(process.argv[2] ?? 200);
const WATCH_S = Number(process.argv[3] ?? 150);

const port = await new Promise<number>((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
// The embedded mode: no Redis settings at all.
const { REDIS_URL: _url, REDIS_CLUSTER_NODES: _nodes, ...env } = process.env;
const child = spawn('node', ['--import', 'tsx', 'src/server.ts'], {
  cwd: new URL('..', import.meta.url).pathname,
  env: { ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
  detached: true,
  stdio: ['ignore', 'inherit', 'inherit'],
});
const exited = new Promise((resolve) => child.on('exit', resolve));
const base = `http://127.0.0.1:${port}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  console.log(`server on ${port}; worker warm-up ${WARM_S} s, then ${WATCH_S} s on every stream`);
  await sleep(WARM_S * 1000);
  const { locations } = (await (await fetch(`${base}/locations`)).json()) as { locations: { id: string }[] };
  const ac = new AbortController();
  const delays: number[] = [];
  const watch = async (id: string): Promise<void> => {
    try {
      const res = await fetch(`${base}/stream/${id}`, { signal: ac.signal });
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const message = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (!message.includes('event: sky-event')) continue;
          const data = JSON.parse(message.split('\n').find((l) => l.startsWith('data: '))!.slice(6));
          const delay = Date.now() - Date.parse(data.time);
          delays.push(delay);
          console.log(`${id} ${data.kind} ${data.body ?? data.bodies} ${data.time} +${delay} ms`);
        }
      }
    } catch {
      // aborted at the end of the watch
    }
  };
  setTimeout(() => ac.abort(), WATCH_S * 1000);
  await Promise.all(locations.map((l) => watch(l.id)));
  delays.sort((a, b) => a - b);
  console.log(
    `sky-events received: ${delays.length} over ${WATCH_S} s on ${locations.length} streams; delay from the instant: ` +
      `min ${delays[0]} ms, median ${delays[Math.floor(delays.length / 2)]} ms, max ${delays[delays.length - 1]} ms`,
  );
} finally {
  process.kill(-child.pid!, 'SIGTERM');
  await exited;
}
