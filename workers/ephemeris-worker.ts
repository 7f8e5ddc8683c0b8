import { createBroker } from '../src/broker/index.ts';
import { loadConfigOrExit, onStopSignal } from '../src/entry.ts';
import { createLogger } from '../src/log.ts';
import { hostname } from 'node:os';
import { createPresenceStore } from '../src/presence/index.ts';
import { startWorkerReporter } from '../src/presence/worker-report.ts';
import { createWorkerMetrics } from '../src/worker/metrics-server.ts';
import type { TickLoop } from '../src/worker/tick-loop.ts';
import { selectLocations, startSkyPublisher } from '../src/worker/sky-publisher.ts';

// `npm run worker`: computes the grid every TICK_MS and publishes it to Redis for any number of API nodes.
// SIGTERM/SIGINT: the tick in progress finishes, then the process exits.

const config = loadConfigOrExit();
const log = createLogger(config.LOG_LEVEL, 'orrery-worker');
if (!config.REDIS_URL && !config.REDIS_CLUSTER_NODES) {
  log.fatal(
    'neither REDIS_URL nor REDIS_CLUSTER_NODES is set: the worker publishes to Redis (without Redis, `npm start` runs the worker in-process)',
  );
  process.exit(2);
}
let locations: ReturnType<typeof selectLocations>;
try {
  locations = selectLocations(config.WORKER_LOCATIONS);
} catch (err) {
  log.fatal((err as Error).message);
  process.exit(2);
}

const broker = createBroker(config, log);
// Its health (ticks, last tick, duration) goes to the presence store every STATUS_INTERVAL_MS for the status page.
const presence = createPresenceStore(config, log);
const reporter = startWorkerReporter({
  store: presence,
  id: `${hostname()}-${process.pid}`,
  tickMs: config.TICK_MS,
  intervalMs: config.STATUS_INTERVAL_MS,
  brokerReady: () => broker.ready(),
  log,
});
let started: TickLoop | undefined;
const metrics = createWorkerMetrics({
  node: `${hostname()}-${process.pid}`,
  broker,
  loop: () => started,
  tickMs: config.TICK_MS,
  graceMs: config.STATUS_INTERVAL_MS * 2,
});
const spreadMs = Math.round(config.PUBLISH_SPREAD * config.TICK_MS);
const loop = startSkyPublisher({
  broker,
  locations,
  tickMs: config.TICK_MS,
  spreadMs,
  log,
  onTick: (ms) => {
    reporter.ticked(ms);
    metrics.tick(ms);
  },
});
started = loop;
reporter.attach(loop);
const metricsServer =
  config.METRICS_PORT === undefined
    ? undefined
    : await metrics.listen(config.METRICS_PORT, config.HOST).then(
        (s) => {
          log.info({ port: s.port }, 'worker metrics listening');
          return s;
        },
        (err: Error) => {
          log.fatal({ err: err.message }, 'could not serve worker metrics');
          process.exit(1);
        },
      );
log.info({ locations: locations.length, tickMs: config.TICK_MS, spreadMs, prefix: config.REDIS_PREFIX }, 'worker started');

onStopSignal((signal) => {
  log.info({ signal }, 'worker stopping after the current tick');
  void (async () => {
    await loop.stop();
    await Promise.all([reporter.stop(), metricsServer?.close()]);
    await Promise.all([broker.close(), presence.close()]);
    log.info(loop.stats(), 'worker stopped');
    process.exit(0);
  })();
});
