import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { buildDist } from '../scripts/build.ts';
import { freePort, listensOn, npmScriptCommand, spawnProcess, startApiNode, startWorker, uniquePrefix, waitUntil, type ApiNode, type ProjectRuntime } from '../scripts/processes.ts';
import { redisCommand, respCommand } from '../scripts/resp.ts';
import { openStream, type SseStream } from '../scripts/sse-client.ts';
import { FRAME_CHANNEL } from '../src/spots/channel.ts';
import { LOCATIONS } from '../src/sky/locations.ts';
import { createCleanups, forkHelper, type Forked } from './forked.ts';
import { Histogram } from './fanout/histogram.ts';
import type { LoadResult, Plan } from './fanout/load-client.ts';
import { buildNativeLoadClient } from './fanout/native-client.ts';
import { machineBusyMs, sampleAll, withChildren } from './fanout/procstat.ts';

// bench:spots — many distinct exact spots (GET /stream?lat=&lon=) beside grid viewers, on this machine (issue 16).
//
//   npm run bench:spots -- [--spots 10000] [--grid 2000] [--grid-channels 10] [--api-nodes 2] [--duration 30]
//                          [--runtime dist|tsx] [--format full|delta]
//
// redis-server, the real worker (--grid-channels grid cities, and the geocentric frame every tick) and --api-nodes API
// processes run as production runs them (dist: `npm run build`'s bundle, `npm run serve`'s flags). Clients: the
// bench:fanout load clients (the native one when it builds), raw sockets from several loopback source addresses,
// one process per 6,000 connections (a process may hold 20,000 descriptors). Every spot is its own cell (random
// coordinates at four decimals, far apart), spread evenly over the API nodes; grid viewers likewise.
//
// 1. grid viewers connect; the API processes' CPU over a few seconds is the baseline;
// 2. the spots connect; over --duration seconds of whole ticks: every update's publish → receive delay (the worker's
//    publishedAt of the frame to the client's read), lost = frames published in the window × spot connections −
//    received (grid: per city from its history), the API processes' CPU beyond the baseline per spot-tick, their
//    RSS beyond the grid-only figure per spot, and the cell computations per tick from /metrics; a spot's publishedAt
//    is its node's (each chunk of a tick's cells is stamped when it is computed, spread over PUBLISH_SPREAD of the tick), so 20
//    more spot streams opened here also measure tick instant → receive, which includes that spread;
// 3. the spots disconnect: cells active and spot observers on /metrics must return to 0, RSS is reported again.

const { values: args } = parseArgs({
  options: {
    spots: { type: 'string', default: '10000' },
    grid: { type: 'string', default: '2000' },
    'grid-channels': { type: 'string', default: '10' },
    'api-nodes': { type: 'string', default: '2' },
    duration: { type: 'string', default: '30' },
    runtime: { type: 'string', default: 'dist' },
    // the spots' stream format; a delta carries no publishedAt, so its delay is counted from the tick instant
    format: { type: 'string', default: 'full' },
  },
});
const SPOTS = Number(args.spots);
const GRID = Number(args.grid);
const GRID_CHANNELS = Number(args['grid-channels']);
const NODES = Number(args['api-nodes']);
const DURATION_S = Number(args.duration);
const PER_PROC = 6000;
const PER_ADDRESS = 5000;
const HOST = '127.0.0.1';
const TICK_MS = 1000;
if (args.runtime !== 'dist' && args.runtime !== 'tsx') throw new Error('--runtime must be dist or tsx');
if (args.format !== 'full' && args.format !== 'delta') throw new Error('--format must be full or delta');
const FORMAT_QUERY = args.format === 'delta' ? '&format=delta' : '';
const RUNTIME: ProjectRuntime = { runtime: args.runtime, nodeArgs: args.runtime === 'dist' ? npmScriptCommand('serve').args.slice(0, -1) : [] };
if ((SPOTS + GRID) / NODES > 19_000) throw new Error('more than 19,000 connections per API process: add --api-nodes');

const log = (msg: string): void => void process.stderr.write(`[spots ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

const { cleanups, cleanupAll } = createCleanups(log);

/** `count` distinct spots, each its own cell, at four decimals (their own cell centres). */
function spotPaths(count: number): string[] {
  let s = 20261203;
  const r = (): number => (s = (s * 16807) % 2147483647) / 2147483647;
  const seen = new Set<string>();
  while (seen.size < count) {
    const lat = ((Math.asin(2 * r() - 1) * 180) / Math.PI).toFixed(4);
    const lon = (360 * r() - 180).toFixed(4);
    seen.add(`/stream?lat=${lat}&lon=${lon}${FORMAT_QUERY}`);
  }
  return [...seen];
}

async function metricsOf(node: ApiNode): Promise<Record<string, number>> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(orrery_spot_\w+)(?:\{[^}]*\})? (\S+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}
const sumMetric = async (nodes: ApiNode[], name: string): Promise<number> =>
  (await Promise.all(nodes.map(metricsOf))).reduce((a, m) => a + (m[name] ?? 0), 0);

interface Group {
  name: string;
  loads: Forked[];
  /** connection count per path index */
  paths: string[];
}

function connectGroup(name: string, paths: string[], ports: number[], count: number, client: { file: string; args: string[] }, addrBase: number): Group {
  const procs = Math.max(1, Math.ceil(count / PER_PROC));
  const per = Math.ceil(count / procs);
  const loads: Forked[] = [];
  for (let p = 0; p < procs; p++) {
    const l = forkHelper(client.file, `load client ${p + 1}`, client.args, cleanups);
    const connections: Plan['connections'] = [];
    for (let g = p * per; g < Math.min(count, (p + 1) * per); g++) {
      connections.push([ports[g % ports.length]!, g % paths.length, `127.0.0.${addrBase + Math.floor(g / PER_ADDRESS)}`]);
    }
    l.child.send({ type: 'plan', host: HOST, paths, connections, concurrency: 100 } satisfies Plan);
    loads.push(l);
  }
  return { name, loads, paths };
}

async function connected(g: Group): Promise<number> {
  const r = await Promise.all(g.loads.map((l) => l.next('connected', 600_000)));
  const ok = r.reduce((a, m) => a + Number(m.connected), 0);
  const failures = r.map((m) => JSON.stringify(m.failures)).filter((f) => f !== '{}');
  log(`${g.name}: ${ok} connected${failures.length ? `, failures ${failures.join(' ')}` : ''}`);
  return ok;
}

interface GroupResult {
  connected: number;
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  dropped: number;
  p50: number;
  p99: number;
  max: number;
}

async function report(g: Group, published: (pathIndex: number) => number): Promise<GroupResult> {
  const results = (await Promise.all(g.loads.map((l) => (l.child.send({ type: 'report' }), l.next('result', 60_000))))) as unknown as LoadResult[];
  const h = new Histogram();
  let expected = 0;
  let received = 0;
  let duplicates = 0;
  let dropped = 0;
  let ok = 0;
  for (const r of results) {
    h.merge(r.latency);
    r.establishedByChannel.forEach((n, i) => (expected += n * published(i)));
    received += r.received.reduce((a, b) => a + b, 0);
    duplicates += r.duplicates;
    dropped += r.dropped;
    ok += r.connected;
  }
  return { connected: ok, expected, received, lost: Math.max(0, expected - received), duplicates, dropped, p50: h.percentile(0.5), p99: h.percentile(0.99), max: h.max };
}

async function main(): Promise<void> {
  const command = `npm run bench:spots -- ${process.argv.slice(2).join(' ')}`.trim();
  if (RUNTIME.runtime === 'dist') await buildDist();
  const built = buildNativeLoadClient();
  const client = built.ok ? { file: './fanout/load-client-native.ts', args: [built.binary] } : { file: './fanout/load-client.ts', args: [] };
  if (built.ok) process.on('exit', () => built.remove());
  log(`load client: ${built.ok ? 'native' : `node (${built.reason})`}; ${SPOTS} spots + ${GRID} grid viewers over ${NODES} API nodes`);

  const port = await freePort();
  const redis = spawnProcess('redis', 'redis-server', ['--bind', HOST, '--port', String(port), '--save', '', '--appendonly', 'no', '--loglevel', 'warning']);
  cleanups.push(() => redis.stop('SIGTERM', 5000));
  await waitUntil('redis', async () => listensOn(redis.pid, port) && (await respCommand(port, HOST, ['PING'])) === 'PONG', { proc: redis, timeoutMs: 10_000 });
  const url = `redis://${HOST}:${port}`;
  const prefix = uniquePrefix('spots');
  const cities = LOCATIONS.slice(0, GRID_CHANNELS).map((l) => l.id);
  const common = { REDIS_URL: url, REDIS_PREFIX: prefix, TICK_MS: String(TICK_MS), LOG_LEVEL: 'warn' };
  const worker = await startWorker({ ...common, LOG_LEVEL: 'info', WORKER_LOCATIONS: cities.join(',') }, { runtime: RUNTIME.runtime });
  cleanups.push(async () => void (await worker.stop()));
  const nodes = await Promise.all(
    Array.from({ length: NODES }, () =>
      startApiNode({ ...common, LOG_LEVEL: 'info', MAX_STREAMS_PER_CLIENT: '0', MAX_SPOTS_PER_CLIENT: '0', MAX_PENDING_HEADS_PER_CLIENT: '1000000' }, RUNTIME),
    ),
  );
  for (const n of nodes) cleanups.push(async () => void (await n.stop()));
  const pids = nodes.map((n) => n.pid);
  const ports = nodes.map((n) => n.port);
  await sleep(1500);
  const idle = sampleAll(pids);

  // 1. grid viewers alone
  const grid = connectGroup('grid', cities.map((c) => `/stream/${c}`), ports, GRID, client, 2);
  await connected(grid);
  await sleep(3000);
  const g0 = sampleAll(pids);
  await sleep(10_000);
  const g1 = sampleAll(pids);
  const gridCpuPerS = (g1.cpuMs - g0.cpuMs) / 10;

  // 2. the spots
  const paths = spotPaths(SPOTS);
  const connectStart = Date.now();
  const spots = connectGroup('spots', paths, ports, SPOTS, client, 10);
  const spotsOk = await connected(spots);
  log(`spots connected in ${((Date.now() - connectStart) / 1000).toFixed(1)} s`);
  // A few spot streams of our own: the delay from the tick instant itself, spread included.
  const sampled: SseStream[] = await Promise.all(
    Array.from({ length: 20 }, (_, i) => openStream(`http://${HOST}:${ports[i % ports.length]}/stream?lat=${(-50 + i * 4.9).toFixed(4)}&lon=${(i * 17.3 - 170).toFixed(4)}`)),
  );
  const w0 = Math.ceil((Date.now() + 4000) / TICK_MS) * TICK_MS;
  const w1 = w0 + DURATION_S * 1000;
  for (const l of [...grid.loads, ...spots.loads]) l.child.send({ type: 'window', w0, w1 });
  await sleep(w0 - Date.now());
  // everything else on the machine the bench started: worker, Redis, the load clients (their native binaries too)
  const otherPids = (): number[] => [worker.pid, redis.pid, ...[...grid.loads, ...spots.loads].flatMap((l) => withChildren(l.child.pid!))];
  const s0 = sampleAll(pids);
  const o0 = sampleAll(otherPids());
  const m0 = machineBusyMs();
  const c0 = await sumMetric(nodes, 'orrery_spot_cell_computations_total');
  let rssMax = s0.rssBytes;
  while (Date.now() < w1) {
    await sleep(Math.min(1000, w1 - Date.now()));
    rssMax = Math.max(rssMax, sampleAll(pids).rssBytes);
  }
  const s1 = sampleAll(pids);
  const o1 = sampleAll(otherPids());
  const m1 = machineBusyMs();
  const c1 = await sumMetric(nodes, 'orrery_spot_cell_computations_total');
  const cellsActive = await sumMetric(nodes, 'orrery_spot_cells_active');
  await sleep(TICK_MS + 2000);
  const count = "return #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2])";
  const inWindow = async (channel: string): Promise<number> =>
    Number(await redisCommand(url, 'EVAL', count, 1, `${prefix}history:${channel}`, `${w0}-0`, `${w1 - 1}-0`));
  const frames = await inWindow(FRAME_CHANNEL);
  const perCity = await Promise.all(cities.map(inWindow));
  const fromTick = new Histogram();
  for (const s of sampled) {
    for (const m of s.updates()) {
      const tick = Number(m.id);
      if (tick >= w0 && tick < w1) fromTick.record(m.receivedAt - tick);
    }
    s.close();
  }
  const spotResult = await report(spots, () => frames);
  const gridResult = await report(grid, (i) => perCity[i]!);
  const ticks = (w1 - w0) / TICK_MS;
  const spotCpuMs = s1.cpuMs - s0.cpuMs - gridCpuPerS * ticks;

  // 3. the spots leave
  for (const l of spots.loads) await l.stop();
  await waitUntil('spot cells released', async () => (await sumMetric(nodes, 'orrery_spot_cells_active')) === 0, { timeoutMs: 30_000, intervalMs: 500 });
  await sleep(3000);
  const after = sampleAll(pids);
  const observersAfter = await sumMetric(nodes, 'orrery_spot_observers_active');

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)}`;
  const mbOf = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MB`;
  console.log(`\n${command}\n${machine}\n`);
  console.log('| what | spots | grid viewers |');
  console.log('|---|---|---|');
  console.log(`| connected | ${spotsOk} / ${SPOTS} | ${gridResult.connected} / ${GRID} |`);
  console.log(`| window | ${DURATION_S} s, ${frames} frames published | ${perCity.join(', ')} ticks per city |`);
  console.log(`| delivered (expected) | ${spotResult.received} (${spotResult.expected}) | ${gridResult.received} (${gridResult.expected}) |`);
  console.log(`| lost, duplicates, dropped connections | ${spotResult.lost}, ${spotResult.duplicates}, ${spotResult.dropped} | ${gridResult.lost}, ${gridResult.duplicates}, ${gridResult.dropped} |`);
  console.log(`| publish → receive p50 / p99 / max ms${args.format === 'delta' ? ' (spots: deltas from the tick instant, the spread included)' : ''} | ${spotResult.p50} / ${spotResult.p99} / ${spotResult.max} | ${gridResult.p50} / ${gridResult.p99} / ${gridResult.max} |`);
  console.log(`| tick instant → receive p50 / p99 / max ms (20 sampled spot streams, the spread over the tick included) | ${fromTick.percentile(0.5)} / ${fromTick.percentile(0.99)} / ${fromTick.max} | |`);
  console.log(`| cell computations per tick (all nodes) / cells active | ${((c1 - c0) / ticks).toFixed(0)} / ${cellsActive} | |`);
  console.log(`| API CPU per spot-tick beyond the grid-only baseline (compute + fan-out) | ${((spotCpuMs * 1000) / (SPOTS * ticks)).toFixed(1)} µs | grid-only: ${(gridCpuPerS / 10).toFixed(1)} % of a core |`);
  console.log(`| API CPU, cores (grid only → with spots) | ${((s1.cpuMs - s0.cpuMs) / 1000 / ticks).toFixed(2)} (${(((s1.sysMs - s0.sysMs) / Math.max(1, s1.cpuMs - s0.cpuMs)) * 100).toFixed(0)} % in the kernel) | ${(gridCpuPerS / 1000).toFixed(2)} |`);
  console.log(`| machine busy, cores: all / the worker, Redis and load clients | ${((m1 - m0) / 1000 / ticks).toFixed(2)} / ${((o1.cpuMs - o0.cpuMs) / 1000 / ticks).toFixed(2)} | |`);
  console.log(`| API RSS: idle, grid only, with spots (max), after the spots left | ${mbOf(idle.rssBytes)}, ${mbOf(g1.rssBytes)}, ${mbOf(rssMax)}, ${mbOf(after.rssBytes)} | |`);
  console.log(`| RSS per spot stream beyond grid only (connection included) | ${(((s1.rssBytes - g1.rssBytes) / Math.max(1, spotsOk)) / 1024).toFixed(1)} KB | |`);
  console.log(`| after the spots left: cells active, spot observers | 0, ${observersAfter} | |`);
  if (spotResult.p99 > 200 || spotResult.lost > 0) log('spots: p99 over 200 ms or something lost');
}

main().then(
  async () => {
    await cleanupAll();
    process.exit(0);
  },
  async (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanupAll();
    process.exit(1);
  },
);
