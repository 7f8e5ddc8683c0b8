// bench:http — load on GET /planets/:name against a real server process, every request different.
//
//   npm run bench:http [-- --duration=10 --connections=50 --warmup=3 --client=wrk|autocannon --profile]
//
// Starts `node --import tsx src/server.ts` on a free loopback port, warms it up, then measures in one run:
//   1. GET /healthz (the trivial baseline: what this machine's HTTP stack does with no work), and
//   2. GET /planets/:name with a random body, latitude, longitude and elevation on every request (time = now),
//      so no cache of any kind can answer.
// The server's embedded worker computes one grid location only (WORKER_LOCATIONS=greenwich), as on an API node.
// Figures on a shared 2-core machine are noisy; read /planets as a fraction of /healthz from the same run.
// Load client: wrk (C, one thread, `wrk -t1 -c50` like the peer figure; Debian package `wrk`, script
// bench/http-random.lua) when installed, else autocannon (in this process: it competes with the server
// for the 2 cores, so its figures are lower). Benchmarks are not part of CI, so CI does not install wrk.
// --profile runs the server under `node --cpu-prof` and prints where the .cpuprofile landed.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BODY_NAMES } from '../src/sky/types.ts';

interface Histogram {
  average: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}
interface CannonResult {
  requests: Histogram & { total: number };
  latency: Histogram;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  duration: number;
}
interface CannonRequest {
  method?: string;
  path?: string;
  setupRequest?: (req: CannonRequest) => CannonRequest;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  pipelining?: number;
  timeout?: number;
  requests?: CannonRequest[];
}) => Promise<CannonResult>;

// autocannon ships CommonJS without types; this is the slice of its API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    profile: { type: 'boolean', default: false },
    client: { type: 'string' },
  },
});
const hasWrk = spawnSync('wrk', ['-v']).error === undefined;
const CLIENT = args.client ?? (hasWrk ? 'wrk' : 'autocannon');
if (CLIENT !== 'wrk' && CLIENT !== 'autocannon') throw new Error(`--client must be wrk or autocannon, got ${CLIENT}`);
if (CLIENT === 'wrk' && !hasWrk) throw new Error('--client=wrk but wrk is not installed (apt-get install wrk)');
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
for (const [name, v] of [['duration', DURATION], ['warmup', WARMUP], ['connections', CONNECTIONS]] as const) {
  if (!Number.isFinite(v) || v < 0 || v > 600) throw new Error(`--${name} must be a number of seconds/connections in 0..600, got ${v}`);
}

const REPO = fileURLToPath(new URL('..', import.meta.url));
const HOST = '127.0.0.1';

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, HOST);
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

function startServer(port: number, profileDir: string | undefined): ChildProcess {
  const nodeArgs = ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), 'src/server.ts'];
  const child = spawn(process.execPath, nodeArgs, {
    cwd: REPO,
    // The embedded worker is cut to one grid location: an API node behind Redis computes no grid at all,
    // and the whole grid every second would be measured here as HTTP slowness.
    env: { ...process.env, PORT: String(port), HOST, LOG_LEVEL: 'warn', WORKER_LOCATIONS: 'greenwich' },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  return child;
}

async function waitReady(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before answering`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not answer ${url}/healthz within ${timeoutMs} ms`);
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    // The whole group: the server runs under a tsx loader that may hold children of its own.
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

/** A fresh request on every call: another body, another place on Earth, always "now". */
function randomPlanetRequest(req: CannonRequest): CannonRequest {
  const name = BODY_NAMES[Math.floor(Math.random() * BODY_NAMES.length)]!;
  const lat = (Math.random() * 180 - 90).toFixed(4);
  const lon = (Math.random() * 360 - 180).toFixed(4);
  const elevation = Math.floor(Math.random() * 3000);
  req.path = `/planets/${name}?lat=${lat}&lon=${lon}&elevation=${elevation}`;
  return req;
}

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

/** The server's user+system CPU seconds so far (Linux /proc), or undefined elsewhere. */
function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name: state is [0], utime [11], stime [12].
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

interface Row {
  label: string;
  /** server CPU time per request, µs: the cost of one request, much less sensitive to a busy machine than req/s */
  cpuUs?: number;
  rps: number;
  p50: number;
  p99: number;
  total: number;
  errors: number;
  non2xx: number;
}

const LUA = fileURLToPath(new URL('./http-random.lua', import.meta.url));

interface Phase {
  label: string;
  path: string;
  random: boolean;
}

async function load(url: string, phase: Phase, duration: number, serverPid?: number): Promise<Row> {
  const before = serverPid === undefined ? undefined : cpuSeconds(serverPid);
  const row = await (CLIENT === 'wrk' ? loadWrk(url, phase, duration) : loadAutocannon(url, phase, duration));
  const after = serverPid === undefined ? undefined : cpuSeconds(serverPid);
  if (before !== undefined && after !== undefined && row.total > 0) row.cpuUs = ((after - before) * 1e6) / row.total;
  return row;
}

async function loadWrk(url: string, { label, path, random }: Phase, duration: number): Promise<Row> {
  const child = spawn(
    'wrk',
    ['-t1', `-c${CONNECTIONS}`, `-d${duration}s`, '--timeout', '10s', '-s', LUA, `${url}${path}`],
    { env: { ...process.env, PLANETS: random ? '1' : '0' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}):\n${out}`);
  const r = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
  return {
    label,
    rps: r.requests! / (r.duration_us! / 1e6),
    p50: r.p50_us! / 1000,
    p99: r.p99_us! / 1000,
    total: r.requests!,
    errors: r.socket_errors!,
    non2xx: r.non2xx!,
  };
}

async function loadAutocannon(url: string, { label, path, random }: Phase, duration: number): Promise<Row> {
  const requests: CannonRequest[] = [{ method: 'GET', path, ...(random ? { setupRequest: randomPlanetRequest } : {}) }];
  const r = await autocannon({ url, connections: CONNECTIONS, duration, pipelining: 1, timeout: 10, requests });
  return {
    label,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

function printRows(rows: Row[]): void {
  const head = ['route', 'req/s', 'server CPU µs/req', 'p50 ms', 'p99 ms', 'requests', 'errors', 'non-2xx'];
  const lines = rows.map((r) => [
    r.label,
    r.rps.toFixed(0),
    r.cpuUs === undefined ? '-' : r.cpuUs.toFixed(1),
    r.p50.toFixed(1),
    r.p99.toFixed(1),
    String(r.total),
    String(r.errors),
    String(r.non2xx),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  for (const l of [head, ...lines]) console.log(l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

async function main(): Promise<void> {
  const port = await freePort();
  const url = `http://${HOST}:${port}`;
  const profileDir = args.profile ? mkdtempSync(join(tmpdir(), 'orrery-cpuprof-')) : undefined;
  const child = startServer(port, profileDir);
  let failed = false;
  try {
    await waitReady(url, child);
    console.log(
      `bench:http  server pid ${child.pid} on ${url}  ${CONNECTIONS} connections, ${DURATION} s per route, ` +
        `${WARMUP} s warm-up, client ${CLIENT}, node ${process.version}`,
    );
    const planets: Phase = { label: 'GET /planets/:name (random)', path: '/planets/mars', random: true };
    const health: Phase = { label: 'GET /healthz', path: '/healthz', random: false };
    if (WARMUP > 0) {
      await load(url, planets, WARMUP);
      await load(url, health, Math.min(WARMUP, 1));
    }
    // Each phase starts only once the server has drained the requests still queued from the previous one.
    await waitReady(url, child);
    const baseline = await load(url, health, DURATION, child.pid);
    await waitReady(url, child);
    const planet = await load(url, planets, DURATION, child.pid);
    printRows([baseline, planet]);
    console.log(`ratio /planets : /healthz = ${(planet.rps / baseline.rps).toFixed(3)} (req/s)`);
    if (planet.cpuUs !== undefined && baseline.cpuUs !== undefined) {
      console.log(
        `one server core would top out near ${(1e6 / planet.cpuUs).toFixed(0)} req/s on /planets/:name ` +
          `(${(1e6 / baseline.cpuUs).toFixed(0)} on /healthz); of ${planet.cpuUs.toFixed(1)} µs per request, ` +
          `${(planet.cpuUs - baseline.cpuUs).toFixed(1)} µs is above the trivial route`,
      );
    }
    failed = [baseline, planet].some((r) => r.errors > 0 || r.non2xx > 0 || r.total === 0);
    if (failed) console.error('FAIL: errors or non-2xx responses (see table)');
  } finally {
    await stopServer(child);
  }
  if (profileDir) {
    const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    console.log(files.length ? `cpu profile: ${files.map((f) => join(profileDir, f)).join(', ')}` : `no cpu profile written in ${profileDir}`);
  }
  if (failed) process.exitCode = 1;
}

await main();
