import { createServer as createHttpServer, type Server, type ServerOptions as HttpServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getRequestListener, serve } from '@hono/node-server';
import type { Broker } from './broker/broker.ts';
import { createBroker } from './broker/index.ts';
import { publishSpreadMs, redisTarget, type Config } from './config.ts';
import { loadConfigOrExit, onStopSignal, openFileLimit } from './entry.ts';
import { createApp } from './http/app.ts';
import { installClientErrorHandler } from './http/client-error.ts';
import { parseTrustedProxies } from './http/client-ip.ts';
import { parseCorsOrigins } from './http/cors.ts';
import { guardRawRequest, requestErrorResponse } from './http/raw-request.ts';
import { createStreamLimiter } from './http/stream-limit.ts';
import { SHUTDOWN_FRAME } from './http/stream.ts';
import { KernelStallWatch, chooseBatchWriter, installStreamFront, loadKernelQueueProbe } from './fastpath/index.ts';
import { Hub } from './hub/hub.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createSpotLimiter } from './http/spot-limit.ts';
import { registerSpotMetrics } from './spots/metrics.ts';
import { isSpotChannel } from './spots/channel.ts';
import { SpotBroker } from './spots/spot-broker.ts';
import { createPresenceStore } from './presence/index.ts';
import { nodeReport } from './presence/node-report.ts';
import { StatusChannel } from './presence/status.ts';
import type { PresenceStore } from './presence/store.ts';
import { PresenceTracker } from './presence/tracker.ts';
import { startWorkerReporter, type WorkerReporter } from './presence/worker-report.ts';
import { selectLocations, startSkyPublisher } from './worker/sky-publisher.ts';
import type { TickLoop } from './worker/tick-loop.ts';

// Composition root of an API node: build the node (broker → hub → app), listen, start the embedded worker if this
// process is the whole service, and shut down in order.
// No REDIS_URL: one process, memory broker, the worker's tick loop runs here too (`npm install && npm start`).
// REDIS_URL (or REDIS_CLUSTER_NODES): an API node only; `npm run worker` publishes, any number of nodes share the Redis.

// Both this file and its bundle (dist/server.js, `npm run build`) sit one level below the repository root.
const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));

export interface ServerOptions {
  config: Config;
  log: Logger;
  /** Injected broker (tests); default: from config. */
  broker?: Broker;
  /** Run the tick loop in this process; default: when there is neither REDIS_URL nor REDIS_CLUSTER_NODES. */
  embeddedWorker?: boolean;
  /** Injected presence store (tests); default: from config (memory, or Redis beside the broker). */
  presence?: PresenceStore;
}

export interface RunningServer {
  url: string;
  port: number;
  broker: Broker;
  hub: Hub;
  server: Server;
  status: StatusChannel;
  nodeId: string;
  /** Stops accepting, closes stream clients (they reconnect elsewhere), stops the tick loop, closes the broker. */
  close(): Promise<void>;
}

const STREAM_SUMMARY_MS = 60_000;
/** How long a graceful stop may take before the remaining sockets are cut. */
const CLOSE_GRACE_MS = 3000;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config, log } = options;
  const node = buildNode(options);
  const server = await listen(config, node.fetch);
  installFastPath(server, node);
  const embedded = options.embeddedWorker ?? !redisTarget(config);
  const worker = embedded ? startEmbeddedWorker(node) : undefined;
  node.status.start();
  const { url, port } = addressOf(server, config.HOST);
  log.info({ url, port, mode: embedded ? 'embedded' : 'api', broker: node.broker.kind }, `listening on ${url}`);
  const summary = logStreamSummaries(node);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= shutdown(node, server, worker, summary));
  return { url, port, broker: node.broker, hub: node.hub, server, status: node.status, nodeId: node.id, close };
}

/** Everything one API node runs, built before it listens. */
interface ApiNode {
  id: string;
  config: Config;
  log: Logger;
  broker: Broker;
  hub: Hub;
  metrics: Metrics;
  presence: PresenceStore;
  status: StatusChannel;
  /** clients the kernel buffers for, where the native probe loads */
  kernelStalls: KernelStallWatch | undefined;
  trusted: ReturnType<typeof parseTrustedProxies>;
  /** the HTTP application, behind the raw-request guard */
  fetch: (request: Request, env: object) => Response | Promise<Response>;
  /** Not ready from now on (a balancer probing /readyz stops sending). */
  drain(): void;
}

function buildNode(options: ServerOptions): ApiNode {
  const { config, log } = options;
  const id = `${hostname()}-${process.pid}`;
  const startedAt = Date.now();
  const broker = options.broker ?? createBroker(config, log);
  const metrics = createMetrics({ node: id });
  // Exact spots are computed here from the worker's geocentric frame (spots/); every other channel passes through.
  const spots = new SpotBroker(broker, { log, spreadMs: publishSpreadMs(config) });
  registerSpotMetrics(metrics.registry, () => spots.spotStats());
  // The hub sees the broker through the metrics wrapper (publish → send lag, frames fanned out); nothing else changes.
  const hub = createHub(config, metrics.instrument(spots), log);
  metrics.watchHub(hub, broker);
  let draining = false;
  const ready = (): boolean => !draining && broker.ready();
  const presence = options.presence ?? createPresenceStore(config, log);
  const tracker = new PresenceTracker();
  const status = new StatusChannel({
    store: presence,
    nodeId: id,
    intervalMs: config.STATUS_INTERVAL_MS,
    history: config.STATUS_HISTORY,
    log: log.child({ component: 'status' }),
    ownReport: () =>
      nodeReport({
        id,
        startedAt,
        now: Date.now(),
        ready: ready(),
        hub: hub.stats(),
        clientsAt: (location) => hub.clientCount(location),
        tracker,
        fannedOut: metrics.framesFannedOut(),
      }),
  });
  const kernelStalls = watchKernelStalls(config, log);
  const trusted = parseTrustedProxies(config.TRUSTED_PROXIES);
  const app = buildApp({ config, log, hub, metrics, status, kernelStalls, trusted }, tracker, ready);
  // Raw requests are checked before any URL parser resolves their targets (raw-request.ts).
  const fetch = guardRawRequest(app.fetch as ApiNode['fetch']);
  const drain = (): void => void (draining = true);
  return { id, config, log, broker, hub, metrics, presence, status, kernelStalls, trusted, fetch, drain };
}

/** The HTTP routes over the node's parts; stream opens and closes counted for presence and metrics. */
function buildApp(
  n: Pick<ApiNode, 'config' | 'log' | 'hub' | 'metrics' | 'status' | 'kernelStalls' | 'trusted'>,
  tracker: PresenceTracker,
  ready: () => boolean,
): ReturnType<typeof createApp> {
  const { config, log, metrics } = n;
  const limiter = createStreamLimiter({
    max: config.MAX_STREAMS_PER_CLIENT,
    trusted: n.trusted,
    onRefused: () => metrics.refused('too_many_streams'),
  });
  const spotLimiter = createSpotLimiter({
    max: config.MAX_SPOTS_PER_CLIENT,
    trusted: n.trusted,
    onRefused: () => metrics.refused('too_many_spots'),
  });
  const connection = {
    heartbeatMs: config.HEARTBEAT_MS,
    stallMs: config.SLOW_CLIENT_MS,
    maxBufferedBytes: config.STREAM_QUEUE_BYTES,
    kernelStalls: n.kernelStalls,
  };
  return createApp({
    ready,
    logger: log,
    webRoot: WEB_ROOT,
    stream: {
      hub: n.hub,
      ...connection,
      log,
      admit: limiter.admit,
      admitSpot: spotLimiter.admit,
      // Presence counts grid locations; a spot's channel names its viewer's coordinates and would grow the counts
      // (and the public activity feed) by one key per spot ever watched: spots are counted by the spot metrics.
      observer: {
        joined: (channel, served) => {
          if (!isSpotChannel(channel)) tracker.joined(channel);
          metrics.streamOpened(served);
        },
        left: (channel, _reason, conn) => {
          if (!isSpotChannel(channel)) tracker.left(channel);
          metrics.streamClosed(conn.conflated, conn.dropped);
        },
      },
    },
    status: { channel: n.status, tracker, connection, admit: limiter.admit },
    metrics,
    cors: parseCorsOrigins(config.CORS_ORIGINS),
    accessLog: config.ACCESS_LOG === 'on' ? log.child({ component: 'access' }) : undefined,
  });
}

/** Where the native probe loads (Linux, dist/fanout.node), a client the kernel buffers for is caught too. */
function watchKernelStalls(config: Config, log: Logger): KernelStallWatch | undefined {
  const probe = loadKernelQueueProbe();
  const watch = probe && new KernelStallWatch(probe, config.SLOW_CLIENT_MS);
  log.info(
    { kernelStallCheck: Boolean(watch) },
    watch ? 'slow clients: Node and kernel send queues' : 'slow clients: Node send queue only (no native probe)',
  );
  return watch;
}

/** Listens on HOST:PORT with the head limits and timeouts of the configuration. */
async function listen(config: Config, fetch: ApiNode['fetch']): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const s = serve(
      {
        fetch,
        port: config.PORT,
        hostname: config.HOST,
        // The same listener serve() would make, plus an answer in the JSON error shape when no Request can be built.
        createServer: ((opts: HttpServerOptions) =>
          createHttpServer(opts, getRequestListener(fetch, { hostname: config.HOST, errorHandler: requestErrorResponse }))) as typeof createHttpServer,
        // Heads after a connection's first (keep-alive) get the same allowance as the first; Node checks every second.
        serverOptions: {
          maxHeaderSize: config.MAX_HEADER_BYTES,
          // Host lines are checked by guardRawRequest (a JSON 400 rather than Node's bare one).
          requireHostHeader: false,
          headersTimeout: config.HEAD_TIMEOUT_MS,
          requestTimeout: Math.max(config.HEAD_TIMEOUT_MS, 30_000),
          connectionsCheckingInterval: 1000,
        },
      },
      () => resolve(s as Server),
    );
    s.once('error', reject);
  });
}

function addressOf(server: Server, bindHost: string): { url: string; port: number } {
  const port = (server.address() as AddressInfo).port;
  const host = bindHost === '0.0.0.0' || bindHost === '::' ? 'localhost' : bindHost;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port };
}

// ── The fast path: how the hub writes frames and how fresh /stream connections reach it. ──────────────────────────

function createHub(config: Config, broker: Broker, log: Logger): Hub {
  const fanoutWriter = chooseBatchWriter(config.FANOUT_WRITER);
  log.info({ fanoutWriter: fanoutWriter.writer ? 'native' : 'js' }, `fan-out: ${fanoutWriter.note}`);
  return new Hub(broker, log.child({ component: 'hub' }), { batchWriter: fanoutWriter.writer });
}

function installFastPath(server: Server, node: ApiNode): void {
  const { config, metrics, log } = node;
  installClientErrorHandler(server, config.MAX_HEADER_BYTES);
  // Fresh /stream connections are served on their bare socket (no Node HTTP objects held per stream).
  installStreamFront(server, {
    fetch: node.fetch,
    maxHeaderBytes: config.MAX_HEADER_BYTES,
    headTimeoutMs: config.HEAD_TIMEOUT_MS,
    maxPendingPerClient: config.MAX_PENDING_HEADS_PER_CLIENT,
    // A quarter of the descriptors at most for heads nobody finished: the rest stay for streams, Redis and /healthz.
    maxPending: config.MAX_PENDING_HEADS ?? Math.max(16, Math.floor(openFileLimit() / 4)),
    trusted: node.trusted,
    onRefused: () => metrics.refused('too_many_pending_heads'),
    onError: (err) => log.error({ err }, 'stream request failed'),
  });
}

// ── End of the fast path. ──────────────────────────────────────────────────────────────────────────────────────────

interface EmbeddedWorker {
  loop: TickLoop;
  report: WorkerReporter;
}

/** The worker's tick loop in this process (no Redis: this process is the whole service), reporting its health. */
function startEmbeddedWorker(node: ApiNode): EmbeddedWorker {
  const { config, log, broker, metrics } = node;
  const report = startWorkerReporter({
    store: node.presence,
    id: node.id,
    tickMs: config.TICK_MS,
    intervalMs: config.STATUS_INTERVAL_MS,
    brokerReady: () => broker.ready(),
    log,
  });
  const loop = startSkyPublisher({
    broker,
    locations: selectLocations(config.WORKER_LOCATIONS),
    tickMs: config.TICK_MS,
    spreadMs: publishSpreadMs(config),
    log,
    onTick: (ms) => {
      metrics.tick(ms);
      report.ticked(ms);
    },
  });
  report.attach(loop);
  return { loop, report };
}

/** A line a minute about the streams while there are any: clients, channels, and closes by reason (slow_client…). */
function logStreamSummaries(node: ApiNode): NodeJS.Timeout {
  let lastSummary = '';
  const timer = setInterval(() => {
    const stats = node.hub.stats();
    const text = JSON.stringify(stats);
    if (stats.clients === 0 && text === lastSummary) return;
    lastSummary = text;
    node.log.info({ ...stats, broker: node.broker.stats() }, 'stream summary');
  }, STREAM_SUMMARY_MS);
  timer.unref();
  return timer;
}

/**
 * Not ready and no new connections; stream and status clients told to reconnect elsewhere; the tick loop stopped and
 * the reports withdrawn; the sockets left after CLOSE_GRACE_MS cut; the broker and the presence store closed last.
 */
async function shutdown(node: ApiNode, server: Server, worker: EmbeddedWorker | undefined, summary: NodeJS.Timeout): Promise<void> {
  clearInterval(summary);
  node.drain();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  node.hub.closeAll('shutdown', SHUTDOWN_FRAME);
  node.kernelStalls?.stop();
  node.status.closeAll(SHUTDOWN_FRAME);
  server.closeIdleConnections();
  const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
  await worker?.loop.stop();
  await Promise.all([node.status.stop(), worker?.report.stop()]);
  await closed;
  clearTimeout(cut);
  await Promise.all([node.broker.close(), node.presence.close()]);
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.LOG_LEVEL);
  let running: RunningServer;
  try {
    running = await startServer({ config, log });
  } catch (err) {
    log.fatal({ err }, 'could not start');
    process.exit(1);
  }
  onStopSignal((signal) => {
    log.info({ signal, clients: running.hub.stats().clients }, 'shutting down');
    // Whatever happens, exit within a few seconds.
    setTimeout(() => process.exit(1), CLOSE_GRACE_MS + 2000).unref();
    running.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'unclean shutdown');
        process.exit(1);
      },
    );
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
