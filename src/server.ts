import { createServer as createHttpServer, type Server, type ServerOptions as HttpServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getRequestListener, serve } from '@hono/node-server';
import type { Broker } from './broker/broker.ts';
import { createBroker } from './broker/index.ts';
import type { Config } from './config.ts';
import { loadConfigOrExit, onStopSignal } from './entry.ts';
import { createApp } from './http/app.ts';
import { SHUTDOWN_FRAME } from './http/stream.ts';
import { KernelStallWatch, chooseBatchWriter, installStreamFront, loadKernelQueueProbe } from './fastpath/index.ts';
import { Hub } from './hub/hub.ts';
import { createLogger, type Logger } from './log.ts';
import { parseTrustedProxies } from './http/client-ip.ts';
import { parseCorsOrigins } from './http/cors.ts';
import { createStreamLimiter } from './http/stream-limit.ts';
import { createMetrics } from './metrics.ts';
import { createPresenceStore } from './presence/index.ts';
import { StatusChannel } from './presence/status.ts';
import type { PresenceStore } from './presence/store.ts';
import { PresenceTracker } from './presence/tracker.ts';
import { startWorkerReporter, type WorkerReporter } from './presence/worker-report.ts';
import { installClientErrorHandler } from './http/client-error.ts';
import { guardRawRequest, requestErrorResponse } from './http/raw-request.ts';
import { openFileLimit } from './entry.ts';
import { LOCATIONS } from './sky/locations.ts';
import { selectLocations, startSkyPublisher } from './worker/sky-publisher.ts';
import type { TickLoop } from './worker/tick-loop.ts';

// Composition root: config → broker → hub → app → serve.
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
  const broker = options.broker ?? createBroker(config, log);
  const embedded = options.embeddedWorker ?? (!config.REDIS_URL && !config.REDIS_CLUSTER_NODES);
  const nodeId = `${hostname()}-${process.pid}`;
  const startedAt = Date.now();
  const metrics = createMetrics({ node: nodeId });
  // The hub sees the broker through the metrics wrapper (publish → send lag, frames fanned out); nothing else changes.
  let hub: Hub;
  const fanout = { frames: 0 };
  const measured = metrics.instrument(broker, (channel) => {
    const n = hub.clientCount(channel);
    fanout.frames += n;
    return n;
  });
  const fanoutWriter = chooseBatchWriter(config.FANOUT_WRITER);
  log.info({ fanoutWriter: fanoutWriter.writer ? 'native' : 'js' }, `fan-out: ${fanoutWriter.note}`);
  hub = new Hub(measured, log.child({ component: 'hub' }), { batchWriter: fanoutWriter.writer });
  metrics.watchHub(hub, broker);
  const presence = options.presence ?? createPresenceStore(config, log);
  const tracker = new PresenceTracker();
  const status = new StatusChannel({
    store: presence,
    nodeId,
    intervalMs: config.STATUS_INTERVAL_MS,
    history: config.STATUS_HISTORY,
    log: log.child({ component: 'status' }),
    // Built every STATUS_INTERVAL_MS from the hub's own counts: nothing on the per-message path.
    ownReport: () => {
      const stats = hub.stats();
      const counts: Record<string, number> = {};
      for (const l of LOCATIONS) {
        const n = hub.clientCount(l.id);
        if (n > 0) counts[l.id] = n;
      }
      return {
        kind: 'node',
        id: nodeId,
        startedAt,
        updatedAt: Date.now(),
        ready: ready(),
        clients: stats.clients,
        statusClients: tracker.statusClients,
        counts,
        joins: Object.fromEntries(tracker.joins),
        leaves: Object.fromEntries(tracker.leaves),
        dispatched: stats.dispatched,
        fannedOut: fanout.frames,
        slowCloses: stats.closed.slow_client ?? 0,
      };
    },
  });
  const trusted = parseTrustedProxies(config.TRUSTED_PROXIES);
  const limiter = createStreamLimiter({
    max: config.MAX_STREAMS_PER_CLIENT,
    trusted,
    onRefused: () => metrics.refused('too_many_streams'),
  });
  let draining = false;
  const ready = (): boolean => !draining && broker.ready();
  // Where the native probe loads (Linux, dist/fanout.node), a client the kernel buffers for is caught too.
  const probe = loadKernelQueueProbe();
  const kernelStalls = probe && new KernelStallWatch(probe, config.SLOW_CLIENT_MS);
  log.info({ kernelStallCheck: Boolean(kernelStalls) }, kernelStalls ? 'slow clients: Node and kernel send queues' : 'slow clients: Node send queue only (no native probe)');
  const connection = {
    heartbeatMs: config.HEARTBEAT_MS,
    stallMs: config.SLOW_CLIENT_MS,
    maxBufferedBytes: config.STREAM_QUEUE_BYTES,
    kernelStalls,
  };
  const app = createApp({
    ready,
    logger: log,
    webRoot: WEB_ROOT,
    stream: {
      hub,
      ...connection,
      log,
      admit: limiter.admit,
      observer: {
        joined: (channel, served) => {
          tracker.joined(channel);
          metrics.streamOpened(served);
        },
        left: (channel, _reason, conn) => {
          tracker.left(channel);
          metrics.streamClosed(conn.conflated, conn.dropped);
        },
      },
    },
    status: { channel: status, tracker, connection, admit: limiter.admit },
    metrics,
    cors: parseCorsOrigins(config.CORS_ORIGINS),
    accessLog: config.ACCESS_LOG === 'on' ? log.child({ component: 'access' }) : undefined,
  });

  // Raw requests are checked before any URL parser resolves their targets (raw-request.ts).
  const fetch = guardRawRequest(app.fetch as (request: Request, env: object) => Response | Promise<Response>);
  const server = await new Promise<Server>((resolve, reject) => {
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
  installClientErrorHandler(server, config.MAX_HEADER_BYTES);
  // Fresh /stream connections are served on their bare socket (no Node HTTP objects held per stream).
  installStreamFront(server, {
    fetch,
    maxHeaderBytes: config.MAX_HEADER_BYTES,
    headTimeoutMs: config.HEAD_TIMEOUT_MS,
    maxPendingPerClient: config.MAX_PENDING_HEADS_PER_CLIENT,
    // A quarter of the descriptors at most for heads nobody finished: the rest stay for streams, Redis and /healthz.
    maxPending: config.MAX_PENDING_HEADS ?? Math.max(16, Math.floor(openFileLimit() / 4)),
    trusted,
    onRefused: () => metrics.refused('too_many_pending_heads'),
    onError: (err) => log.error({ err }, 'stream request failed'),
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let worker: TickLoop | undefined;
  let workerReport: WorkerReporter | undefined;
  if (embedded) {
    const locations = selectLocations(config.WORKER_LOCATIONS);
    const reporter = startWorkerReporter({
      store: presence,
      id: nodeId,
      tickMs: config.TICK_MS,
      intervalMs: config.STATUS_INTERVAL_MS,
      brokerReady: () => broker.ready(),
      log,
    });
    workerReport = reporter;
    worker = startSkyPublisher({
      broker,
      locations,
      tickMs: config.TICK_MS,
      spreadMs: Math.round(config.PUBLISH_SPREAD * config.TICK_MS),
      log,
      onTick: (ms) => {
        metrics.tick(ms);
        reporter.ticked(ms);
      },
    });
    reporter.attach(worker);
  }
  status.start();
  log.info(
    { url, port, mode: embedded ? 'embedded' : 'api', broker: broker.kind },
    `listening on ${url}`,
  );

  // A line a minute about the streams while there are any: clients, channels, and closes by reason (slow_client…).
  let lastSummary = '';
  const summary = setInterval(() => {
    const stats = hub.stats();
    const text = JSON.stringify(stats);
    if (stats.clients === 0 && text === lastSummary) return;
    lastSummary = text;
    log.info({ ...stats, broker: broker.stats() }, 'stream summary');
  }, STREAM_SUMMARY_MS);
  summary.unref();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      clearInterval(summary);
      // Not ready from now on (a balancer probing /readyz stops sending), and no new connections.
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      hub.closeAll('shutdown', SHUTDOWN_FRAME);
      kernelStalls?.stop();
      status.closeAll(SHUTDOWN_FRAME);
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      await worker?.stop();
      await Promise.all([status.stop(), workerReport?.stop()]);
      await closed;
      clearTimeout(cut);
      await Promise.all([broker.close(), presence.close()]);
    })());

  return { url, port, broker, hub, server, status, nodeId, close };
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
