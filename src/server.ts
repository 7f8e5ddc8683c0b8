import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import type { Broker } from './broker/broker.ts';
import { createBroker } from './broker/index.ts';
import type { Config } from './config.ts';
import { loadConfigOrExit, onStopSignal } from './entry.ts';
import { createApp } from './http/app.ts';
import { SHUTDOWN_FRAME } from './http/stream.ts';
import { Hub } from './hub/hub.ts';
import { createLogger, type Logger } from './log.ts';
import { selectLocations, startSkyPublisher } from './worker/sky-publisher.ts';
import type { TickLoop } from './worker/tick-loop.ts';

// Composition root: config → broker → hub → app → serve.
// No REDIS_URL: one process, memory broker, the worker's tick loop runs here too (`npm install && npm start`).
// REDIS_URL (or REDIS_CLUSTER_NODES): an API node only; `npm run worker` publishes, any number of nodes share the Redis.

export interface ServerOptions {
  config: Config;
  log: Logger;
  /** Injected broker (tests); default: from config. */
  broker?: Broker;
  /** Run the tick loop in this process; default: when there is neither REDIS_URL nor REDIS_CLUSTER_NODES. */
  embeddedWorker?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  broker: Broker;
  hub: Hub;
  server: Server;
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
  const hub = new Hub(broker, log.child({ component: 'hub' }));
  const app = createApp({
    ready: () => broker.ready(),
    logger: log,
    stream: { hub, heartbeatMs: config.HEARTBEAT_MS, stallMs: config.SLOW_CLIENT_MS, log },
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s as Server));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let worker: TickLoop | undefined;
  if (embedded) {
    const locations = selectLocations(config.WORKER_LOCATIONS);
    worker = startSkyPublisher({ broker, locations, tickMs: config.TICK_MS, log });
  }
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
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      hub.closeAll('shutdown', SHUTDOWN_FRAME);
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      await worker?.stop();
      await closed;
      clearTimeout(cut);
      await broker.close();
    })());

  return { url, port, broker, hub, server, close };
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
