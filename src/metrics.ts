import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { hasLatestAtHand, hasValue, type Broker, type BrokerMessage, type LatestAtHand, type MessageHandler } from './broker/broker.ts';
import type { Hub } from './hub/hub.ts';
import { LOCATIONS } from './sky/locations.ts';

// Prometheus metrics of one process. What the hub and the broker already count (clients, dispatched messages, closes by
// reason, reconnects) is read at scrape time, so nothing is added to the per-message path except one histogram
// observation per message (the publish → write lag), taken after the fan-out loop.

export type StreamServedBy = 'socket' | 'response' | 'web';

export interface Metrics {
  registry: Registry;
  /** a stream opened, served on its bare socket, through a ServerResponse, or as a web stream body */
  streamOpened(served: StreamServedBy): void;
  /** a stream closed: its conflated and dropped frames are added */
  streamClosed(conflated: number, dropped: number): void;
  /** an HTTP request answered (a stream: its response started) after `seconds` */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** a request refused by a limit (e.g. too_many_streams) */
  refused(reason: string): void;
  /** one worker tick took `ms` */
  tick(ms: number): void;
  /**
   * The broker as the hub should see it: every delivered message is timed from its publishedAt to the end of the
   * local fan-out, and its frames (one per client of the watched hub) are counted.
   */
  instrument(broker: Broker): Broker;
  /** Reads the hub (and broker) at scrape time, and counts the frames of instrument(). */
  watchHub(hub: Hub, broker: Broker): void;
  /** Frames handed to stream connections so far (messages × local clients of their channel). */
  framesFannedOut(): number;
}

/**
 * A message's `publishedAt`: from its value when it carries one (ValueMessage: its text may not even be written yet),
 * else from the end of its JSON (`…,"publishedAt":123}`) without parsing the rest.
 */
export function publishedAtOf(m: BrokerMessage): number | undefined {
  if (hasValue(m)) {
    const at = (m.value as { publishedAt?: unknown }).publishedAt;
    return typeof at === 'number' && Number.isSafeInteger(at) ? at : undefined;
  }
  const data = m.data;
  const at = data.lastIndexOf('"publishedAt":');
  if (at < 0) return undefined;
  const n = Number.parseInt(data.slice(at + 14, at + 30), 10);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function createMetrics(options: { node: string; defaults?: boolean }): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: options.node });
  if (options.defaults !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  let hub: Hub | undefined;
  let watched: Broker | undefined;
  let frames = 0;
  registerHubMetrics(registers, () => hub);
  const tick = registerTickAndBrokerMetrics(registers, () => watched);
  const { fannedOut, conflated, dropped, opened, refusals, lag, requests } = registerStreamMetrics(registers);
  // Every request lands in one of a short, closed list of label sets: each one's child is looked up once (prom-client
  // would otherwise hash the label object on every request).
  const requestChildren = new Map<string, ReturnType<typeof requests.labels>>();
  const requestTimer = (method: string, route: string, status: number) => {
    const key = `${method} ${route} ${status}`;
    let child = requestChildren.get(key);
    if (child === undefined) {
      child = requests.labels(method, route, String(status));
      requestChildren.set(key, child);
    }
    return child;
  };

  return {
    registry,
    streamOpened(served) {
      opened.inc({ served });
    },
    streamClosed(c, d) {
      if (c > 0) conflated.inc(c);
      if (d > 0) dropped.inc(d);
    },
    refused(reason) {
      refusals.inc({ reason });
    },
    httpRequest(method, route, status, seconds) {
      requestTimer(method, route, status).observe(seconds);
    },
    tick,
    watchHub(h, b) {
      hub = h;
      watched = b;
    },
    framesFannedOut: () => frames,
    instrument(broker) {
      // After the hub's handler: the frames it just handed out, and how long after publishing.
      return afterEachDelivery(broker, (channel, m) => {
        const n = hub?.clientCount(channel) ?? 0;
        if (n === 0) return;
        frames += n;
        fannedOut.inc(n);
        const at = publishedAtOf(m);
        if (at !== undefined) lag.observe(Math.max(0, Date.now() - at) / 1000);
      });
    },
  };
}

/**
 * `broker` with `after` called once each delivered message has been handled; every other method, and the LatestAtHand
 * capability when the broker has it, passed through.
 */
function afterEachDelivery(broker: Broker, after: (channel: string, m: BrokerMessage) => void): Broker {
  const wrapped: Broker = {
    kind: broker.kind,
    subscribe: (channel: string, handler: MessageHandler) =>
      broker.subscribe(channel, (m) => {
        handler(m);
        after(channel, m);
      }),
    publish: (items) => broker.publish(items),
    history: (channel, afterId) => broker.history(channel, afterId),
    latest: (channel) => broker.latest(channel),
    ready: () => broker.ready(),
    stats: () => broker.stats(),
    close: () => broker.close(),
  };
  if (!hasLatestAtHand(broker)) return wrapped;
  const atHand: LatestAtHand = { latestAtHand: (channel) => broker.latestAtHand(channel) };
  return Object.assign(wrapped, atHand);
}

/**
 * The series every process with a tick loop or a broker exposes, API node and worker alike: tick duration, Redis
 * reconnects and broker readiness. Returns the function that records one tick's duration.
 */
export function registerTickAndBrokerMetrics(registers: Registry[], broker: () => Broker | undefined): (ms: number) => void {
  const tick = new Histogram({
    name: 'orrery_worker_tick_seconds',
    help: 'Duration of one worker tick (compute + publish), in the process that runs the tick loop',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  new Counter({
    name: 'orrery_redis_reconnects_total',
    help: 'Broker connections to Redis restored after a loss',
    registers,
    collect() {
      this.reset();
      this.inc(broker()?.stats().reconnects ?? 0);
    },
  });
  new Gauge({
    name: 'orrery_broker_ready',
    help: '1 when the broker is connected',
    registers,
    collect() {
      this.set(broker()?.ready() ? 1 : 0);
    },
  });
  return (ms) => tick.observe(ms / 1000);
}

/** What the hub already counts, read at scrape time: clients per location, channels, dispatched messages, closes. */
function registerHubMetrics(registers: Registry[], hubOf: () => Hub | undefined): void {
  new Gauge({
    name: 'orrery_clients_connected',
    help: 'Stream clients connected to this node, per location',
    labelNames: ['location'],
    registers,
    collect() {
      this.reset();
      const hub = hubOf();
      if (!hub) return;
      for (const l of LOCATIONS) {
        const n = hub.clientCount(l.id);
        if (n > 0) this.set({ location: l.id }, n);
      }
    },
  });
  new Gauge({
    name: 'orrery_channels_subscribed',
    help: 'Broker channels this node is subscribed to',
    registers,
    collect() {
      this.set(hubOf()?.stats().channels ?? 0);
    },
  });
  new Counter({
    name: 'orrery_messages_dispatched_total',
    help: 'Messages received from the broker and framed once for the local fan-out',
    registers,
    collect() {
      this.reset();
      this.inc(hubOf()?.stats().dispatched ?? 0);
    },
  });
  new Counter({
    name: 'orrery_stream_closes_total',
    help: 'Stream connections closed, by reason (slow_client, client_gone, shutdown, broker_unavailable, …)',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(hubOf()?.stats().closed ?? {})) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: 'orrery_slow_client_closes_total',
    help: 'Stream clients closed because they did not read (queue cap or stall)',
    registers,
    collect() {
      this.reset();
      this.inc(hubOf()?.stats().closed.slow_client ?? 0);
    },
  });
}

/** The series this process counts itself, as streams open and close and as requests are answered. */
function registerStreamMetrics(registers: Registry[]) {
  const fannedOut = new Counter({
    name: 'orrery_messages_fanned_out_total',
    help: 'Frames handed to stream connections (messages × local clients of their channel)',
    registers,
  });
  const conflated = new Counter({
    name: 'orrery_frames_conflated_total',
    help: 'Frames replaced by a newer one before a slow socket could take them (counted when the stream closes)',
    registers,
  });
  const dropped = new Counter({
    name: 'orrery_frames_dropped_total',
    help: 'Frames discarded unsent: pending when a stream closed, or overflowing the start-up hold',
    registers,
  });
  const opened = new Counter({
    name: 'orrery_streams_opened_total',
    help: 'Stream connections opened, by how they are served: socket (the bare socket, batched writes), response (a keep-alive connection that served other requests first: Node\'s ServerResponse), web',
    labelNames: ['served'],
    registers,
  });
  const refusals = new Counter({
    name: 'orrery_requests_refused_total',
    help: 'Requests refused by a limit, by reason',
    labelNames: ['reason'],
    registers,
  });
  const lag = new Histogram({
    name: 'orrery_publish_to_send_seconds',
    help: "From the worker's publishedAt to the end of this node's fan-out write loop",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const requests = new Histogram({
    name: 'orrery_http_request_duration_seconds',
    help: 'HTTP requests from arrival to the response (for a stream: to its head), by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });

  return { fannedOut, conflated, dropped, opened, refusals, lag, requests };
}
