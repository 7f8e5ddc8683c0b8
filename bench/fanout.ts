import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, listensOn, spawnProcess, startApiNode, startWorker, uniquePrefix, waitUntil, type ManagedProcess, type ProjectProcess, type ProjectRuntime, npmScriptCommand } from '../scripts/processes.ts';
import { buildDist } from '../scripts/build.ts';
import { redisCommand, respCommand } from '../scripts/resp.ts';
import { FANOUT_WRITERS } from '../src/config.ts';
import { LOCATIONS } from '../src/sky/locations.ts';
import { createCleanups, forkHelper } from './forked.ts';
import { Histogram } from './fanout/histogram.ts';
import type { LoadResult, Plan } from './fanout/load-client.ts';
import { buildNativeLoadClient } from './fanout/native-client.ts';
import { startNchan } from './fanout/nchan.ts';
import type { PublisherStart } from './fanout/nchan-publisher.ts';
import { parseGcTrace, type GcPause } from './fanout/gc-trace.ts';
import { fdCounts, machineBusyMs, pssAll, sampleAll, withChildren, type ProcSample } from './fanout/procstat.ts';

// bench:fanout — many SSE clients on one machine, Orrery and nchan side by side under the same load.
//
//   npm run bench:fanout -- [--clients 50000] [--channels 100] [--tick 1000] [--pattern spread,burst]
//                           [--targets orrery,nchan] [--bytes snapshot|N] [--duration 20] [--api-nodes 3]
//                           [--spread 0.9] [--runtime dist|tsx] [--node-args="--flag …"] [--format full|delta]
//                           [--profile] [--json file]
//
// Orrery: redis-server, the real worker (WORKER_LOCATIONS = the first --channels grid locations, one snapshot per
// location per --tick, PUBLISH_SPREAD = --spread for the `spread` pattern, 0 for `burst`) and --api-nodes API
// processes, run as production runs them (--runtime dist: `npm run build`'s bundle, built at the start; tsx: the
// TypeScript sources through tsx, as `npm start`; --node-args: node flags for the API processes instead of those of
// `npm run serve`); clients connect straight to the API ports (through nginx every client would cost two more descriptors).
// nchan: its own nginx (3 workers) and a publisher that runs the worker's own tick function against nchan's HTTP
// publisher, so channels, bytes and schedule are the same (--bytes N: messages of N bytes instead of the snapshots).
// Load: --load-procs processes of raw-socket SSE clients (--load-client native: bench/fanout/load-client.c, built with
// `cc` at the start, the default when it builds; node: bench/fanout/load-client.ts), each connection from one of
// several loopback source addresses (127.0.0.2, .3, … --per-address connections each). Latency is the client's read
// instant minus the message's publishedAt, for messages whose tick falls in the measured window; lost = published in
// the window (Redis history, or the nchan publisher's 2xx) × clients of that channel − received.
// --format delta: Orrery's clients ask for ?format=delta (docs/api.md, "Stream formats"); a delta carries no
// publishedAt, so its latency is counted from its tick instant instead (which adds the worker's publish delay).
// Everything runs on loopback and on the same cores; all processes started here are stopped by pid on exit, Ctrl-C
// or SIGTERM.

const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '50000' },
    channels: { type: 'string', default: '100' },
    tick: { type: 'string', default: '1000' },
    pattern: { type: 'string', default: 'spread,burst' },
    targets: { type: 'string', default: 'orrery,nchan' },
    bytes: { type: 'string', default: 'snapshot' },
    duration: { type: 'string', default: '20' },
    'api-nodes': { type: 'string', default: '3' },
    'nchan-workers': { type: 'string', default: '3' },
    'load-procs': { type: 'string', default: '' },
    'per-address': { type: 'string', default: '5000' },
    spread: { type: 'string', default: '0.9' },
    runtime: { type: 'string', default: 'dist' },
    'node-args': { type: 'string' },
    profile: { type: 'boolean', default: false },
    'trace-gc': { type: 'boolean', default: false },
    writer: { type: 'string', default: 'auto' },
    format: { type: 'string', default: 'full' },
    json: { type: 'string' },
    'load-client': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(usage());
  process.exit(0);
}

function usage(): string {
  return 'npm run bench:fanout -- [--clients 50000] [--channels 100] [--tick 1000] [--pattern spread,burst] [--targets orrery,nchan] [--bytes snapshot|N] [--duration 20] [--api-nodes 3] [--nchan-workers 3] [--load-procs N] [--per-address 5000] [--spread 0.9] [--runtime dist|tsx] [--node-args="--flag …"] [--load-client native|node] [--writer auto|native|js] [--format full|delta] [--profile] [--trace-gc] [--json file]';
}

function intArg(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`);
  return n;
}
const CLIENTS = intArg('clients', args.clients, 1, 60_000);
const CHANNELS = intArg('channels', args.channels, 1, LOCATIONS.length);
const TICK_MS = intArg('tick', args.tick, 100, 60_000);
const DURATION_S = intArg('duration', args.duration, 3, 600);
const API_NODES = intArg('api-nodes', args['api-nodes'], 1, 16);
const NCHAN_WORKERS = intArg('nchan-workers', args['nchan-workers'], 1, 16);
const PER_ADDRESS = intArg('per-address', args['per-address'], 100, 20_000);
const LOAD_PROCS = args['load-procs'] ? intArg('load-procs', args['load-procs'], 1, 32) : Math.max(1, Math.ceil(CLIENTS / 15_000));
const SPREAD = Number(args.spread);
if (!(SPREAD >= 0 && SPREAD <= 0.9)) throw new Error(`--spread must be 0..0.9 (a fraction of the tick), got ${args.spread}`);
const BYTES = args.bytes === 'snapshot' ? 0 : intArg('bytes', args.bytes, 100, 100_000);
const PATTERNS = args.pattern!.split(',').map((p) => {
  if (p !== 'spread' && p !== 'burst') throw new Error(`--pattern takes spread and/or burst, got ${p}`);
  return p;
});
const TARGETS = args.targets!.split(',').map((t) => {
  if (t !== 'orrery' && t !== 'nchan') throw new Error(`--targets takes orrery and/or nchan, got ${t}`);
  return t;
});
// Each process may hold 20,000 descriptors here: servers and load processes must stay below that.
if (CLIENTS / API_NODES > 19_000) throw new Error(`${CLIENTS} clients over ${API_NODES} API nodes is more than 19,000 per process; add --api-nodes`);
if (CLIENTS / LOAD_PROCS > 19_000) throw new Error(`${CLIENTS} clients over ${LOAD_PROCS} load processes is too many per process; add --load-procs`);
if (CLIENTS / NCHAN_WORKERS > 19_000 && TARGETS.includes('nchan')) throw new Error('too many clients per nchan worker; add --nchan-workers');

if (args['load-client'] !== undefined && args['load-client'] !== 'native' && args['load-client'] !== 'node') throw new Error(`--load-client must be native or node, got ${args['load-client']}`);
/** set in main(): the file forked per load process, its arguments, and which client it is */
let LOAD_CLIENT = { kind: 'node' as 'native' | 'node', file: './fanout/load-client.ts', args: [] as string[] };

if (!(FANOUT_WRITERS as readonly string[]).includes(args.writer!)) throw new Error(`--writer must be one of ${FANOUT_WRITERS.join(', ')} (the API nodes' FANOUT_WRITER), got ${args.writer}`);
if (args.format !== 'full' && args.format !== 'delta') throw new Error(`--format must be full or delta (Orrery's stream format), got ${args.format}`);
if (args.runtime !== 'dist' && args.runtime !== 'tsx') throw new Error(`--runtime must be dist or tsx, got ${args.runtime}`);
const RUNTIME: ProjectRuntime = {
  runtime: args.runtime,
  nodeArgs: [
    ...(args['node-args'] !== undefined ? args['node-args'].split(/\s+/).filter(Boolean) : args.runtime === 'dist' ? npmScriptCommand('serve').args.slice(0, -1) : []),
    // the API processes' GC pauses, to set beside the slowest deliveries of each second
    ...(args['trace-gc'] ? ['--trace-gc'] : []),
  ],
};

const HOST = '127.0.0.1';
const CHANNEL_IDS = LOCATIONS.slice(0, CHANNELS).map((l) => l.id);
const log = (msg: string): void => void process.stderr.write(`[fanout ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

// ---- cleanup and forked helpers (load clients, nchan publisher): bench/forked.ts ----

const { cleanups, cleanupAll } = createCleanups(log);

// ---- one run ----

interface Target {
  name: 'orrery' | 'nchan';
  /** server processes whose CPU and memory count */
  serverPids(): number[];
  /** other processes of the target (worker, redis, publisher), reported apart */
  otherPids(): number[];
  ports: number[];
  path(channel: string): string;
  /** ticks published per channel (by index) with w0 <= tick < w1 */
  published(w0: number, w1: number): Promise<number[]>;
  /** mean bytes of one message's data, as sent */
  messageBytes: number;
  /** how the servers write a message to their sockets */
  writer: string;
  /** the server processes' GC events (with --trace-gc; Orrery only) */
  gcPauses?(): GcPause[];
  stop(): Promise<void>;
}

interface RunResult {
  target: string;
  pattern: string;
  clients: number;
  connected: number;
  failed: number;
  dropped: number;
  failures: Record<string, number>;
  windowS: number;
  expectedPerS: number;
  deliveredPerS: number;
  expected: number;
  received: number;
  /** ticks the publisher got out per channel in the window (mean), of windowTicks */
  publishedTicks: number;
  windowTicks: number;
  lost: number;
  duplicates: number;
  /** per tick second of the window: the slowest delivery (ms), and deliveries over 200 ms */
  maxMsBySecond: number[];
  over200BySecond: number[];
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  messageBytes: number;
  serverCpuCores: number;
  serverRssIdleMB: number;
  serverRssMB: number;
  rssPerConnKB: number;
  rssPerConnTotalKB: number;
  serverPssMB: number;
  serverPssIdleMB: number;
  pssPerConnKB: number;
  otherCpuCores: number;
  loadCpuCores: number;
  /** CPU the rest of the machine used meanwhile (other jobs, kernel threads), cores */
  restCpuCores: number;
  /** socket reads per delivered message in the load client */
  readsPerMessage: number;
  /** which load client measured: native (C) or node */
  loadClient: 'native' | 'node';
  /** the load client processes' CPU in the window (as loadCpuCores) per message received in the window, µs */
  loadCpuUsPerMessage: number;
  /** how the servers write a message to their sockets (Orrery: native or js; nchan: nginx's own) */
  writer: string;
  /** with --trace-gc: the servers' GC pauses of 10 ms or more in the window, as [second of the window, ms, kind] */
  gcPauses?: [number, number, string][];
  serverProcesses: number;
  /** open descriptors per server process at the end of the window */
  serverFds: number[];
}

const mb = (b: number): number => Math.round((b / 1048576) * 10) / 10;

async function startRedis(): Promise<{ url: string; proc: ManagedProcess }> {
  const port = await freePort();
  const proc = spawnProcess('redis', 'redis-server', ['--bind', HOST, '--port', String(port), '--save', '', '--appendonly', 'no', '--loglevel', 'warning']);
  cleanups.push(() => proc.stop('SIGTERM', 5000));
  await waitUntil(`redis on ${port}`, async () => listensOn(proc.pid, port) && (await respCommand(port, HOST, ['PING'])) === 'PONG', { proc, timeoutMs: 10_000 });
  return { url: `redis://${HOST}:${port}`, proc };
}

async function orreryTarget(pattern: string, profileDir: string | undefined): Promise<Target> {
  const redis = await startRedis();
  const prefix = uniquePrefix('fanout');
  const common = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, TICK_MS: String(TICK_MS) };
  const worker: ProjectProcess = await startWorker({
    ...common,
    LOG_LEVEL: 'info',
    WORKER_LOCATIONS: CHANNEL_IDS.join(','),
    PUBLISH_SPREAD: pattern === 'spread' ? String(SPREAD) : '0',
  }, { runtime: RUNTIME.runtime });
  cleanups.push(async () => void (await worker.stop()));
  // --trace-gc times GC events from the isolate's start, which is the spawn give or take a few tens of ms
  const spawnedAt = Date.now();
  const apis = await Promise.all(
    Array.from({ length: API_NODES }, () =>
      startApiNode({
        ...common,
        LOG_LEVEL: 'info',
        FANOUT_WRITER: args.writer,
        // The load comes from a few loopback addresses, each standing for thousands of clients (as a proxy would):
        // no per-address caps on streams or on heads in flight.
        MAX_STREAMS_PER_CLIENT: '0',
        MAX_PENDING_HEADS_PER_CLIENT: '1000000',
        ...(profileDir ? { NODE_OPTIONS: `--import=${fileURLToPath(new URL('./fanout/cpu-profile.mjs', import.meta.url))}`, FANOUT_PROFILE_DIR: profileDir } : {}),
      }, RUNTIME),
    ),
  );
  for (const a of apis) cleanups.push(async () => void (await a.stop()));
  // The real message size, from what the worker stored.
  let total = 0;
  let n = 0;
  for (const ch of CHANNEL_IDS) {
    const r = (await redisCommand(redis.url, 'XREVRANGE', `${prefix}history:${ch}`, '+', '-', 'COUNT', 1)) as [string, string[]][];
    const data = r[0]?.[1]?.[1];
    if (data) {
      total += Buffer.byteLength(data);
      n++;
    }
  }
  const stop = async (): Promise<void> => {
    await Promise.all(apis.map((a) => a.stop()));
    await worker.stop();
    await redis.proc.stop('SIGTERM', 5000);
  };
  return {
    name: 'orrery',
    serverPids: () => apis.map((a) => a.pid),
    otherPids: () => [worker.pid, redis.proc.pid],
    ports: apis.map((a) => a.port),
    // --format delta: deltas carry no publishedAt, so their latency is counted from the tick instant (load clients)
    path: (ch) => (args.format === 'delta' ? `/stream/${ch}?format=delta` : `/stream/${ch}`),
    messageBytes: n ? Math.round(total / n) : 0,
    // what each API node said it uses (FANOUT_WRITER auto: native when dist/fanout.node loads)
    writer: [...new Set(apis.map((a) => String(a.logs.find((l) => l.fanoutWriter !== undefined)?.fanoutWriter ?? 'unknown')))].join('+'),
    gcPauses: () => apis.flatMap((a) => parseGcTrace(a.text(), spawnedAt)),
    async published(w0, w1) {
      // Snapshots only: the load client counts one snapshot per tick, and a happening (sky-event) shares the channel.
      const count =
        "local n = 0 for _, e in ipairs(redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2])) do " +
        "if string.find(e[2][2], '\"bodies\":[', 1, true) then n = n + 1 end end return n";
      return Promise.all(
        CHANNEL_IDS.map(async (ch) => Number(await redisCommand(redis.url, 'EVAL', count, 1, `${prefix}history:${ch}`, `${w0}-0`, `${w1 - 1}-0`))),
      );
    },
    stop,
  };
}

async function nchanTarget(pattern: string): Promise<Target> {
  const nchan = await startNchan({ workers: NCHAN_WORKERS, heartbeatS: 15 });
  cleanups.push(() => nchan.stop());
  const publisher = forkHelper('./fanout/nchan-publisher.ts', 'nchan publisher', [], cleanups);
  const start: PublisherStart = {
    type: 'start',
    port: nchan.port,
    channels: CHANNEL_IDS,
    tickMs: TICK_MS,
    spreadMs: pattern === 'spread' ? Math.round(SPREAD * TICK_MS) : 0,
    bytes: BYTES,
  };
  publisher.child.send(start);
  await publisher.next('started', 20_000);
  // Wait for a first message on every channel, and measure its size, through a subscriber of our own.
  const sizes = await Promise.all(CHANNEL_IDS.map((ch) => firstNchanMessageBytes(nchan.port, ch, 15_000)));
  return {
    name: 'nchan',
    writer: 'nginx (C)',
    serverPids: () => withChildren(nchan.proc.pid),
    otherPids: () => [publisher.child.pid!],
    ports: [nchan.port],
    path: (ch) => `/sub/${ch}`,
    messageBytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
    async published(w0, w1) {
      publisher.child.send({ type: 'report', w0, w1, channels: CHANNEL_IDS });
      const r = await publisher.next('published', 10_000);
      if (Number(r.failures) > 0) log(`nchan publisher: ${r.failures} failed publishes (${r.lastError})`);
      return r.perChannel as number[];
    },
    async stop() {
      await publisher.stop();
      const said = nchan.proc.tail().trim();
      if (said) log(`nchan said:\n${said}`);
      await nchan.stop();
    },
  };
}

async function firstNchanMessageBytes(port: number, channel: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 3000);
    try {
      const res = await fetch(`http://${HOST}:${port}/sub/${channel}`, { headers: { Accept: 'text/event-stream' }, signal: ac.signal });
      const reader = res.body!.getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
        const m = /\ndata: ([^\n]*)\n\n/.exec(text);
        if (m) {
          ac.abort();
          return Buffer.byteLength(m[1]!);
        }
      }
    } catch {
      // aborted or not there yet
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > deadline) throw new Error(`nchan: no message on ${channel} within ${timeoutMs} ms`);
    await sleep(200);
  }
}

async function run(target: Target, pattern: string): Promise<RunResult> {
  await sleep(1500);
  const idle = sampleAll(target.serverPids());
  const idlePss = pssAll(target.serverPids());
  // Connections: server = g mod nodes, channel = (g div nodes) mod channels, source address by blocks.
  const loads = Array.from({ length: LOAD_PROCS }, (_, i) => forkHelper(LOAD_CLIENT.file, `load client ${i + 1}`, LOAD_CLIENT.args, cleanups));
  const per = Math.ceil(CLIENTS / LOAD_PROCS);
  const paths = CHANNEL_IDS.map((c) => target.path(c));
  const nodes = target.ports.length;
  loads.forEach((l, i) => {
    const connections: Plan['connections'] = [];
    for (let g = i * per; g < Math.min(CLIENTS, (i + 1) * per); g++) {
      const addr = `127.0.0.${2 + Math.floor(g / PER_ADDRESS)}`;
      connections.push([target.ports[g % nodes]!, Math.floor(g / nodes) % CHANNELS, addr]);
    }
    const plan: Plan = { type: 'plan', host: HOST, paths, connections, concurrency: 100 };
    l.child.send(plan);
  });
  const connectStart = Date.now();
  const progress = setInterval(() => {
    let c = 0;
    for (const l of loads) {
      const p = [...l.messages].reverse().find((m) => m.type === 'progress');
      if (p) c += Number(p.connected);
    }
    log(`${target.name}: ~${c} connected`);
  }, 5000);
  const connected = await Promise.all(loads.map((l) => l.next('connected', 600_000))).finally(() => clearInterval(progress));
  const ok = connected.reduce((s, m) => s + Number(m.connected), 0);
  log(`${target.name}/${pattern}: ${ok}/${CLIENTS} connected in ${((Date.now() - connectStart) / 1000).toFixed(1)} s`);

  // Settle, then measure whole ticks.
  const w0 = Math.ceil((Date.now() + 3000) / TICK_MS) * TICK_MS;
  const w1 = w0 + DURATION_S * 1000;
  for (const l of loads) l.child.send({ type: 'window', w0, w1 });
  // the native client's binary is a child of its wrapper: both count
  const loadPids = loads.flatMap((l) => withChildren(l.child.pid!));
  await sleep(w0 - Date.now());
  const s0 = sampleAll(target.serverPids());
  const o0 = sampleAll(target.otherPids());
  const l0 = sampleAll(loadPids);
  const m0 = machineBusyMs();
  let rssMax = s0.rssBytes;
  while (Date.now() < w1) {
    await sleep(Math.min(1000, w1 - Date.now()));
    rssMax = Math.max(rssMax, sampleAll(target.serverPids()).rssBytes);
  }
  const s1: ProcSample = sampleAll(target.serverPids());
  const pss1 = pssAll(target.serverPids());
  const fds = fdCounts(target.serverPids());
  const o1 = sampleAll(target.otherPids());
  const l1 = sampleAll(loadPids);
  const m1 = machineBusyMs();
  // The window's last tick, spread, is published up to a tick later; give it time to arrive.
  await sleep(TICK_MS + 2000);
  const results = (await Promise.all(loads.map((l) => (l.child.send({ type: 'report' }), l.next('result', 30_000))))) as unknown as LoadResult[];
  const published = await target.published(w0, w1);
  for (const l of loads) await l.stop();

  const hist = new Histogram();
  const received = new Array<number>(CHANNELS).fill(0);
  const established = new Array<number>(CHANNELS).fill(0);
  let failed = 0;
  let dropped = 0;
  let duplicates = 0;
  const failures: Record<string, number> = {};
  const bySecond = new Map<number, [number, number, number]>();
  for (const r of results) {
    hist.merge(r.latency);
    for (const [sec, n, max, over] of r.bySecond) {
      const row = bySecond.get(sec) ?? [0, 0, 0];
      bySecond.set(sec, [row[0] + n, Math.max(row[1], max), row[2] + over]);
    }
    r.received.forEach((n, i) => (received[i]! += n));
    r.establishedByChannel.forEach((n, i) => (established[i]! += n));
    failed += r.failed;
    dropped += r.dropped;
    duplicates += r.duplicates;
    for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
  }
  // Every established connection expects every tick its channel published in the window; a connection that dropped
  // meanwhile still counts, so what it missed is lost.
  let expected = 0;
  published.forEach((p, i) => (expected += p * established[i]!));
  const got = received.reduce((a, b) => a + b, 0);
  const windowS = (w1 - w0) / 1000;
  const seconds = [...bySecond.entries()].sort((a, b) => a[0] - b[0]);
  const rssPerConn = (s1.rssBytes - idle.rssBytes) / Math.max(1, ok);
  return {
    target: target.name,
    pattern,
    clients: CLIENTS,
    connected: ok,
    failed,
    dropped,
    failures,
    windowS,
    expected,
    received: got,
    publishedTicks: Math.round((published.reduce((a, b) => a + b, 0) / CHANNELS) * 10) / 10,
    windowTicks: Math.round((w1 - w0) / TICK_MS),
    expectedPerS: Math.round(expected / windowS),
    deliveredPerS: Math.round(got / windowS),
    lost: Math.max(0, expected - got),
    duplicates,
    latencyMs: {
      p50: hist.percentile(0.5),
      p90: hist.percentile(0.9),
      p99: hist.percentile(0.99),
      p999: hist.percentile(0.999),
      max: hist.max,
      mean: Math.round(hist.mean() * 10) / 10,
    },
    // Whether a high p99 is spread over the window or a few bad seconds: the slowest delivery of each tick second.
    maxMsBySecond: seconds.map(([, [, max]]) => max),
    over200BySecond: seconds.map(([, [, , over]]) => over),
    messageBytes: target.messageBytes,
    serverCpuCores: Math.round(((s1.cpuMs - s0.cpuMs) / 1000 / windowS) * 100) / 100,
    serverRssIdleMB: mb(idle.rssBytes),
    serverRssMB: mb(Math.max(rssMax, s1.rssBytes)),
    rssPerConnKB: Math.round((rssPerConn / 1024) * 10) / 10,
    rssPerConnTotalKB: Math.round((s1.rssBytes / Math.max(1, ok) / 1024) * 10) / 10,
    serverPssMB: mb(pss1),
    serverPssIdleMB: mb(idlePss),
    pssPerConnKB: Math.round(((pss1 - idlePss) / Math.max(1, ok) / 1024) * 10) / 10,
    otherCpuCores: Math.round(((o1.cpuMs - o0.cpuMs) / 1000 / windowS) * 100) / 100,
    loadCpuCores: Math.round(((l1.cpuMs - l0.cpuMs) / 1000 / windowS) * 100) / 100,
    restCpuCores:
      Math.round(((m1 - m0 - (s1.cpuMs - s0.cpuMs) - (o1.cpuMs - o0.cpuMs) - (l1.cpuMs - l0.cpuMs)) / 1000 / windowS) * 100) / 100,
    serverProcesses: target.serverPids().length,
    serverFds: fds,
    readsPerMessage: Math.round((results.reduce((a, r) => a + r.reads, 0) / Math.max(1, got)) * 100) / 100,
    loadClient: LOAD_CLIENT.kind,
    loadCpuUsPerMessage: Math.round((((l1.cpuMs - l0.cpuMs) * 1000) / Math.max(1, got)) * 100) / 100,
    writer: target.writer,
    ...(target.gcPauses && args['trace-gc']
      ? {
          gcPauses: target
            .gcPauses()
            .filter((g) => g.pauseMs >= 10 && g.at >= w0 && g.at < w1)
            .sort((a, b) => a.at - b.at)
            .map((g): [number, number, string] => [Math.floor((g.at - w0) / 1000), Math.round(g.pauseMs), g.kind]),
        }
      : {}),
  };
}

// ---- report ----

function table(pattern: string, rows: RunResult[]): string {
  const o = rows.find((r) => r.target === 'orrery');
  const n = rows.find((r) => r.target === 'nchan');
  const cols = [o, n].filter((r): r is RunResult => r !== undefined);
  const ratio = (f: (r: RunResult) => number): string => {
    if (!o || !n) return '';
    const a = f(o);
    const b = f(n);
    return b === 0 ? (a === 0 ? '1' : '∞') : (a / b).toFixed(2);
  };
  const line = (label: string, f: (r: RunResult) => number | string, withRatio = true): string =>
    `| ${label} | ${cols.map((r) => String(f(r))).join(' | ')} |${o && n ? ` ${withRatio ? ratio(f as (r: RunResult) => number) : ''} |` : ''}`;
  const head = `| ${pattern} | ${cols.map((r) => r.target).join(' | ')} |${o && n ? ' orrery / nchan |' : ''}`;
  const sep = `|---|${cols.map(() => '---').join('|')}|${o && n ? '---|' : ''}`;
  return [
    head,
    sep,
    line('clients connected', (r) => `${r.connected} / ${r.clients}`, false),
    line('server processes (open fds each)', (r) => `${r.serverProcesses} (${r.serverFds.join(', ')})`, false),
    line('message data bytes', (r) => r.messageBytes, false),
    line('ticks published per channel (window)', (r) => `${r.publishedTicks} (${r.windowTicks})`, false),
    line('delivered msgs/s (expected)', (r) => `${r.deliveredPerS} (${r.expectedPerS})`, false),
    line('lost (of expected)', (r) => `${r.lost} (${r.expected})`, false),
    line('latency p50 ms', (r) => r.latencyMs.p50),
    line('latency p99 ms', (r) => r.latencyMs.p99),
    line('latency max ms', (r) => r.latencyMs.max),
    line('seconds of the window with a delivery over 200 ms', (r) => `${r.over200BySecond.filter((n) => n > 0).length} of ${r.over200BySecond.length}`, false),
    line('slowest delivery per second, ms', (r) => r.maxMsBySecond.join(' '), false),
    ...(args['trace-gc']
      ? [line('server GC pauses ≥ 10 ms (second of the window: ms kind)', (r) => r.gcPauses?.map(([s, ms, k]) => `${s}: ${ms} ${k}`).join(', ') || (r.gcPauses ? 'none' : 'n/a'), false)]
      : []),
    line('server socket writes', (r) => r.writer, false),
    line('server CPU (cores)', (r) => r.serverCpuCores),
    line('server RSS MB (idle before)', (r) => `${r.serverRssMB} (${r.serverRssIdleMB})`, false),
    line('RSS per connection KB (Δ over idle)', (r) => r.rssPerConnKB),
    line('RSS per connection KB (total / clients)', (r) => r.rssPerConnTotalKB),
    line('server PSS MB (idle before)', (r) => `${r.serverPssMB} (${r.serverPssIdleMB})`, false),
    line('PSS per connection KB (Δ over idle)', (r) => r.pssPerConnKB),
    line('publisher+broker CPU (cores)', (r) => r.otherCpuCores, false),
    line('load client CPU (cores)', (r) => r.loadCpuCores, false),
    line('load client socket reads per message', (r) => r.readsPerMessage, false),
    line('load client (its CPU µs per message)', (r) => `${r.loadClient} (${r.loadCpuUsPerMessage})`, false),
    line('rest of the machine CPU (cores)', (r) => r.restCpuCores, false),
  ].join('\n');
}

async function main(): Promise<void> {
  const profileDir = args.profile ? join(process.cwd(), '.tmp', 'fanout-profiles', String(Date.now())) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const all: RunResult[] = [];
  const command = `npm run bench:fanout -- ${process.argv.slice(2).join(' ')}`.trim();
  if (TARGETS.includes('orrery') && RUNTIME.runtime === 'dist') await buildDist();
  if (args['load-client'] !== 'node') {
    const built = buildNativeLoadClient();
    if (built.ok) {
      process.on('exit', () => built.remove());
      LOAD_CLIENT = { kind: 'native', file: './fanout/load-client-native.ts', args: [built.binary] };
    } else if (args['load-client'] === 'native') throw new Error(`--load-client native: ${built.reason}`);
    else log(`native load client unavailable (${built.reason}): using the Node one`);
  }
  log(`load client: ${LOAD_CLIENT.kind === 'native' ? 'native (bench/fanout/load-client.c)' : 'node (bench/fanout/load-client.ts)'}`);
  log(`API processes: ${RUNTIME.runtime === 'dist' ? 'node dist/server.js' : 'node --import tsx src/server.ts'}${RUNTIME.nodeArgs?.length ? ` with ${RUNTIME.nodeArgs.join(' ')}` : ''}`);
  log(`${CLIENTS} clients, ${CHANNELS} channels, one message per channel every ${TICK_MS} ms, window ${DURATION_S} s, patterns ${PATTERNS.join('+')}, ${LOAD_PROCS} load processes`);
  for (const pattern of PATTERNS) {
    for (const name of TARGETS) {
      log(`--- ${name}, ${pattern} ---`);
      const target = name === 'orrery' ? await orreryTarget(pattern, profileDir) : await nchanTarget(pattern);
      try {
        const r = await run(target, pattern);
        all.push(r);
        console.log(JSON.stringify(r));
      } finally {
        await target.stop();
        // Whatever else this run started (load clients of a failed run) goes too.
        await cleanupAll();
      }
    }
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`\n${command}\n${machine}\n`);
  for (const pattern of PATTERNS) console.log(`${table(pattern, all.filter((r) => r.pattern === pattern))}\n`);
  if (profileDir) console.log(`CPU profiles of the API nodes: ${profileDir}`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ command, machine, results: all }, null, 2));
  if (!existsSync('/proc')) log('note: /proc is missing, CPU and memory figures are zero');
}

main().then(
  () => process.exit(0),
  async (err: unknown) => {
    log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    await cleanupAll();
    process.exit(1);
  },
);
