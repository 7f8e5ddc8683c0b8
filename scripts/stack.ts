import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { readTemplate, renderTemplate, upstreamServers, type NginxVars } from './nginx-config.ts';
import { freePort, listensOn, npmScriptCommand, portWasTaken, spawnProcess, waitUntil, type ManagedProcess } from './processes.ts';
import { buildDist } from './build.ts';
import { programPath } from './binaries.ts';
import { firstMessage, respCommand } from './resp.ts';

// The production topology as local processes: redis-server, the worker, N API nodes and nginx with the
// repo's own nginx/nginx.conf.template, all on 127.0.0.1. `npm run stack` runs it in a terminal; the stack
// tests import startStack() so they exercise exactly this code.

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';

export interface StackOptions {
  /** nginx port; default: a free port (the CLI defaults to 8080). */
  nginxPort?: number;
  /** One port per API node; default: free ports. */
  apiPorts?: number[];
  /** Number of API nodes when apiPorts is not given; default 2. */
  apiNodes?: number;
  redisPort?: number;
  /** Concurrent /stream requests nginx allows per client address; default 16. */
  streamsPerClient?: number;
  /** Extra environment for the worker and the API nodes (TICK_MS, LOG_LEVEL, ...), over process.env. */
  env?: NodeJS.ProcessEnv;
  /** Print every process's output as `[name] line`. */
  echo?: boolean;
  /** Called when a process exits that nobody asked to stop. */
  onUnexpectedExit?: (name: string, code: number | string) => void;
  readyTimeoutMs?: number;
  nginxBin?: string;
  redisBin?: string;
}

export interface Stack {
  /** nginx, the way a browser reaches the site. */
  url: string;
  apiUrls: string[];
  redisUrl: string;
  /** REDIS_PREFIX the worker and the API nodes use. */
  redisPrefix: string;
  tickMs: number;
  /** The directory nginx runs in (-p): rendered nginx.conf, pid, temp paths. */
  nginxDir: string;
  pids(): { redis: number; worker: number; api: number[]; nginx: number };
  /** Output tail of one process: "redis", "worker", "api1".."apiN", "nginx". */
  logs(name: string): string;
  /** Kills API node i (0-based); SIGKILL by default, like a crash. Resolves once it has exited. */
  killApiNode(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts API node i again on its port and waits until it is ready. */
  restartApiNode(i: number): Promise<void>;
  /** Stops everything started here, in reverse order, awaiting each exit. Idempotent. */
  stop(): Promise<void>;
}

export const nginxBinary = (): string => programPath('nginx');
const redisBinary = (): string => programPath('redis-server');

/** Whether every directory down to `path` is searchable, and `path` readable, by "others". */
function readableByOthers(path: string): boolean {
  let p = resolve(path);
  if ((statSync(p).mode & 0o005) !== 0o005) return false;
  while (p !== dirname(p)) {
    p = dirname(p);
    if ((statSync(p).mode & 0o001) === 0) return false;
  }
  return true;
}

/**
 * The `user` line for nginx's workers. Not root: nginx ignores it (with a warning). As root, workers drop
 * to nobody when they can read web/ that way; when they cannot (a checkout under a private home, say),
 * they stay root. That is acceptable only because this is a loopback-only developer launcher; the
 * docker stack runs its workers as the image's unprivileged nginx user.
 */
function nginxUser(webRoot: string): string {
  if (process.getuid?.() !== 0) return 'nobody';
  if (!readableByOthers(webRoot)) return 'root root';
  const groups = readFileSync('/etc/group', 'utf8');
  return /^nogroup:/m.test(groups) ? 'nobody nogroup' : 'nobody nobody';
}

/** The template variables of the process stack (the compose stack sets its own in docker-compose.yml). */
export function processNginxVars(o: { runDir: string; nginxPort: number; apiPorts: readonly number[]; streamsPerClient?: number | undefined }): NginxVars {
  const webRoot = join(REPO_ROOT, 'web');
  return {
    ORRERY_NGINX_USER: nginxUser(webRoot),
    ORRERY_RUN_DIR: o.runDir,
    ORRERY_LISTEN: `${HOST}:${o.nginxPort}`,
    ORRERY_API_SERVERS: upstreamServers(o.apiPorts.map((p) => `${HOST}:${p}`)),
    ORRERY_WEB_ROOT: webRoot,
    ORRERY_ACCESS_LOG: 'off',
    ORRERY_STREAMS_PER_CLIENT: String(o.streamsPerClient ?? 16),
    // Lets a local operator (and the stack tests) see which node serves a stream.
    ORRERY_EXPOSE_UPSTREAM: 'on',
  };
}

async function httpOk(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status;
}

/** Ready: /readyz answers 200; before the readiness route exists, /healthz stands in for it. */
async function apiReady(base: string): Promise<boolean> {
  const status = await httpOk(`${base}/readyz`);
  if (status === 404) return (await httpOk(`${base}/healthz`)) === 200;
  return status === 200;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const nodeCount = options.apiPorts?.length ?? options.apiNodes ?? 2;
  if (nodeCount < 1) throw new Error('the stack needs at least one API node');
  // Validate up front: a bad TICK_MS should fail here with the config's message, not as a timeout.
  const config = loadConfig(nodeEnv(options.env, `redis://${HOST}:6379`, 8080));
  const nginxBin = options.nginxBin ?? nginxBinary();
  const redisBin = options.redisBin ?? redisBinary();
  const processes = new StackProcesses(mkdtempSync(join(tmpdir(), 'orrery-stack-')), options);
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  try {
    const redis = await startRedis(processes, options.redisPort, redisBin, timeoutMs);
    const redisUrl = `redis://${HOST}:${redis.port}`;
    const worker = await startWorker(processes, { env: nodeEnv(options.env, redisUrl), redisPort: redis.port, prefix: config.REDIS_PREFIX, timeoutMs });
    const api = new ApiNodes(processes, (port) => nodeEnv(options.env, redisUrl, port), timeoutMs);
    await Promise.all(Array.from({ length: nodeCount }, (_, i) => api.start(i, options.apiPorts?.[i])));
    const nginx = await startNginx(processes, { ...options, nginxBin, apiPorts: api.ports, timeoutMs });
    processes.up = true;
    return {
      url: `http://${HOST}:${nginx.port}`,
      apiUrls: api.ports.map((p) => `http://${HOST}:${p}`),
      redisUrl,
      redisPrefix: config.REDIS_PREFIX,
      tickMs: config.TICK_MS,
      nginxDir: processes.dir,
      pids: () => ({ redis: redis.proc.pid, worker: worker.pid, api: api.procs.map((p) => p.pid), nginx: nginx.proc.pid }),
      logs: (name) => processes.logs(name),
      killApiNode: async (i, signal = 'SIGKILL') => processes.stopOne(api.node(i), signal),
      restartApiNode: async (i) => api.restart(i),
      stop: () => processes.stopAll(),
    };
  } catch (err) {
    await processes.stopAll();
    throw err;
  }
}

/** The environment of the worker and the API nodes: the caller's, this stack's Redis, and a port for an API node. */
function nodeEnv(extra: NodeJS.ProcessEnv | undefined, redisUrl: string, port?: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra, REDIS_URL: redisUrl, HOST };
  if (port !== undefined) env.PORT = String(port);
  // This stack owns its one Redis; a cluster setting from the caller's shell would contradict REDIS_URL.
  delete env.REDIS_CLUSTER_NODES;
  return env;
}

/** The processes one stack started, in start order, and how they stop. */
class StackProcesses {
  private readonly started: ManagedProcess[] = [];
  private readonly intentional = new Set<ManagedProcess>();
  /** set once the whole stack is up: from then on an exit nobody asked for is reported */
  up = false;
  private stopping: Promise<void> | undefined;

  constructor(
    /** the stack's directory: Redis' dir, nginx's prefix */
    readonly dir: string,
    private readonly options: Pick<StackOptions, 'echo' | 'onUnexpectedExit'>,
  ) {}

  spawn(name: string, command: string, args: string[], extra: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ManagedProcess {
    const p = spawnProcess(name, command, args, { ...extra, echo: this.options.echo ?? false });
    this.started.push(p);
    // While starting, a failure surfaces as startStack's rejection instead.
    void p.exited.then((code) => {
      if (this.up && !this.stopping && !this.intentional.has(p)) this.options.onUnexpectedExit?.(p.name, code);
    });
    return p;
  }

  /** Stops one process on purpose (not reported as unexpected). */
  async stopOne(p: ManagedProcess, signal: NodeJS.Signals): Promise<void> {
    this.intentional.add(p);
    await p.stop(signal, 5000);
  }

  /** Output tail of the latest process of that name. */
  logs(name: string): string {
    return [...this.started].reverse().find((p) => p.name === name)?.tail() ?? '';
  }

  /**
   * Reverse start order: nginx first (no new requests), then API nodes, worker, Redis last. nginx gets SIGTERM (fast
   * shutdown): SIGQUIT would wait for every open stream to end. Idempotent.
   */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const p of [...this.started].reverse()) {
        if (!p.hasExited()) await p.stop('SIGTERM', 5000);
      }
      rmSync(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }
}

/**
 * Runs `start` on the fixed port, or on a free one. Between asking the OS for a free port and binding it, another
 * process (a parallel test, say) can take it: then the child fails to bind and a new port is tried. Readiness checks
 * also ask whether the child itself holds the port, so a stranger's answer never counts.
 */
async function onPort(fixed: number | undefined, start: (port: number) => Promise<void>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = fixed ?? (await freePort());
    try {
      await start(port);
      return port;
    } catch (err) {
      if (fixed !== undefined || attempt >= 3 || !portWasTaken(err)) throw err;
    }
  }
}

/** Redis: no persistence, loopback only; ready when it answers PING. */
async function startRedis(processes: StackProcesses, fixed: number | undefined, bin: string, timeoutMs: number): Promise<{ proc: ManagedProcess; port: number }> {
  let proc!: ManagedProcess;
  const port = await onPort(fixed, async (port) => {
    const args = ['--bind', HOST, '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', processes.dir, '--daemonize', 'no', '--loglevel', 'warning'];
    proc = processes.spawn('redis', bin, args);
    await waitUntil(`redis to answer PING on port ${port}`, async () => listensOn(proc.pid, port) && (await respCommand(port, HOST, ['PING'])) === 'PONG', {
      proc,
      timeoutMs,
    });
  });
  return { proc, port };
}

/** The worker: ready once it has published a snapshot (watched on Redis itself). */
async function startWorker(
  processes: StackProcesses,
  o: { env: NodeJS.ProcessEnv; redisPort: number; prefix: string; timeoutMs: number },
): Promise<ManagedProcess> {
  const published = firstMessage(o.redisPort, HOST, `${o.prefix}sky:*`, o.timeoutMs);
  await published.ready;
  // The processes run what production runs: the bundles of `npm run build`, built from the sources as they are now.
  await buildDist();
  const cmd = npmScriptCommand('serve:worker');
  const worker = processes.spawn('worker', cmd.command, cmd.args, { env: o.env, cwd: REPO_ROOT });
  const first = await Promise.race([published.message, worker.exited.then(() => undefined)]).finally(() => published.close());
  if (first === undefined) throw new Error(`worker exited before publishing:\n${worker.tail()}`);
  return worker;
}

/** The API nodes, started together; a restarted node comes back on its own port. */
class ApiNodes {
  readonly procs: ManagedProcess[] = [];
  readonly ports: number[] = [];
  private readonly cmd = npmScriptCommand('serve');

  constructor(
    private readonly processes: StackProcesses,
    private readonly env: (port: number) => NodeJS.ProcessEnv,
    private readonly timeoutMs: number,
  ) {}

  node(i: number): ManagedProcess {
    const p = this.procs[i];
    if (!p) throw new Error(`no API node ${i}`);
    return p;
  }

  async start(i: number, fixed: number | undefined): Promise<void> {
    this.ports[i] = await onPort(fixed, async (port) => {
      const p = this.processes.spawn(`api${i + 1}`, this.cmd.command, this.cmd.args, { env: this.env(port), cwd: REPO_ROOT });
      this.procs[i] = p;
      await waitUntil(`api${i + 1} to be ready on port ${port}`, async () => listensOn(p.pid, port) && (await apiReady(`http://${HOST}:${port}`)), {
        proc: p,
        timeoutMs: this.timeoutMs,
      });
    });
  }

  async restart(i: number): Promise<void> {
    if (!this.node(i).hasExited()) throw new Error(`api${i + 1} is still running`);
    await this.start(i, this.ports[i]);
  }
}

/** nginx in its own prefix directory with the rendered config: no /etc/nginx, no port 80. */
async function startNginx(
  processes: StackProcesses,
  o: Pick<StackOptions, 'nginxPort' | 'streamsPerClient'> & { nginxBin: string; apiPorts: number[]; timeoutMs: number },
): Promise<{ proc: ManagedProcess; port: number }> {
  const dir = processes.dir;
  let proc!: ManagedProcess;
  const port = await onPort(o.nginxPort, async (port) => {
    const vars = processNginxVars({ runDir: dir, nginxPort: port, apiPorts: o.apiPorts, streamsPerClient: o.streamsPerClient });
    // Workers that dropped to nobody must reach their temp directories under the prefix.
    if (vars.ORRERY_NGINX_USER.startsWith('nobody')) chmodSync(dir, 0o755);
    const confPath = join(dir, 'nginx.conf');
    writeFileSync(confPath, renderTemplate(readTemplate(), vars));
    proc = processes.spawn('nginx', o.nginxBin, ['-p', `${dir}/`, '-c', confPath, '-e', 'stderr']);
    await waitUntil(`nginx on port ${port}`, async () => listensOn(proc.pid, port) && (await apiReady(`http://${HOST}:${port}`)), {
      proc,
      timeoutMs: o.timeoutMs,
    });
  });
  return { proc, port };
}

/** `npm run stack` waits this long before starting a dead API node again (a crash loop stays slow). */
const API_RESTART_DELAY_MS = 1000;

function parsePort(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${what} must be a port number (1-65535), got "${value}"`);
  return n;
}

/** The command line (and STACK_* environment) as StackOptions; undefined after printing --help. */
function stackArgs(): Pick<StackOptions, 'nginxPort' | 'apiPorts' | 'apiNodes' | 'redisPort' | 'echo'> | undefined {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'api-ports': { type: 'string' },
      'redis-port': { type: 'string' },
      nodes: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`npm run stack -- [--port 8080] [--api-ports 8081,8082] [--redis-port N] [--nodes 2] [--quiet]
Starts redis-server, the worker, the API nodes and nginx on 127.0.0.1; Ctrl-C stops them all.
Environment: STACK_PORT, STACK_API_PORTS, STACK_REDIS_PORT; TICK_MS, LOG_LEVEL, ... reach the Node processes.`);
    return undefined;
  }
  const apiList = values['api-ports'] ?? process.env.STACK_API_PORTS;
  const nodes = values.nodes === undefined ? undefined : Number(values.nodes);
  if (nodes !== undefined && (!Number.isInteger(nodes) || nodes < 1 || nodes > 16)) throw new Error(`--nodes must be 1..16, got "${values.nodes}"`);
  return {
    nginxPort: parsePort(values.port ?? process.env.STACK_PORT, '--port') ?? 8080,
    apiPorts: apiList ? apiList.split(',').map((p) => parsePort(p.trim(), '--api-ports')!) : undefined,
    apiNodes: nodes,
    redisPort: parsePort(values['redis-port'] ?? process.env.STACK_REDIS_PORT, '--redis-port'),
    echo: !values.quiet,
  };
}

async function main(): Promise<void> {
  const args = stackArgs();
  if (!args) return;
  let stack: Stack | undefined;
  let exiting = false;
  const shutdown = async (code: number): Promise<void> => {
    if (exiting) return;
    exiting = true;
    console.log('stopping the stack ...');
    await stack?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  stack = await startStack({
    ...args,
    onUnexpectedExit: (name, code) => {
      // An API node that dies is what the balancer is there for: the others carry on, and it is started again so
      // the failover can be watched and repeated. Without Redis, the worker or nginx there is no service: stop.
      const api = /^api(\d+)$/.exec(name);
      if (!api || !stack) {
        console.error(`${name} exited unexpectedly (${code}); stopping the stack`);
        void shutdown(1);
        return;
      }
      console.error(`${name} exited unexpectedly (${code}); the other nodes carry on; restarting it in ${API_RESTART_DELAY_MS} ms`);
      setTimeout(() => {
        if (!exiting) restartApiNode(stack!, Number(api[1]) - 1);
      }, API_RESTART_DELAY_MS);
    },
  });
  printStack(stack);
}

function restartApiNode(stack: Stack, i: number): void {
  stack.restartApiNode(i).then(
    () => console.error(`api${i + 1} restarted (pid ${stack.pids().api[i]})`),
    (err: unknown) => console.error(`api${i + 1} could not be restarted: ${err instanceof Error ? err.message : String(err)}`),
  );
}

function printStack(stack: Stack): void {
  const pids = stack.pids();
  console.log(`
Orrery stack is up: ${stack.url}
  nginx  pid ${pids.nginx}   ${stack.url}   (config: ${stack.nginxDir}/nginx.conf)
${stack.apiUrls.map((u, i) => `  api${i + 1}   pid ${pids.api[i]}   ${u}`).join('\n')}
  worker pid ${pids.worker}   tick ${stack.tickMs} ms
  redis  pid ${pids.redis}   ${stack.redisUrl}
Try: curl -N ${stack.url}/stream/london     Ctrl-C stops everything.`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
