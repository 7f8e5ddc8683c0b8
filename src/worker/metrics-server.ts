import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { Broker } from '../broker/broker.ts';
import { registerTickAndBrokerMetrics } from '../metrics.ts';
import type { TickLoop } from './tick-loop.ts';

// The worker has no API: with METRICS_PORT set it answers GET /metrics (Prometheus text) on a port of its own, with
// its tick duration histogram, tick counters and Redis state, and GET /healthz for a container health check: 200 while
// the broker is reachable and a tick finished within the last three tick intervals plus a start-up allowance (the
// same allowance /status gives a worker), 503 otherwise. Anything else is a 404 JSON.

export interface WorkerMetrics {
  tick(ms: number): void;
  listen(port: number, host: string): Promise<{ port: number; close(): Promise<void> }>;
}

export function createWorkerMetrics(options: {
  node: string;
  broker: Broker;
  loop: () => TickLoop | undefined;
  tickMs: number;
  /** Time a tick may take beyond its slot before the worker counts as stuck (also the first tick's allowance). */
  graceMs: number;
}): WorkerMetrics {
  // The start counts as a tick, so a worker still computing its first one is healthy for the same allowance.
  let lastTickAt = Date.now();
  const registry = new Registry();
  registry.setDefaultLabels({ node: options.node });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const tick = registerTickAndBrokerMetrics(registers, () => options.broker);
  for (const [name, key, help] of [
    ['orrery_worker_ticks_skipped_total', 'skipped', 'Tick slots passed over (previous tick still running, or a stall)'],
    ['orrery_worker_ticks_failed_total', 'failed', 'Ticks that threw'],
  ] as const) {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(options.loop()?.stats()[key] ?? 0);
      },
    });
  }
  const healthy = () => options.broker.ready() && Date.now() - lastTickAt < options.tickMs * 3 + options.graceMs;
  return {
    tick: (ms) => {
      lastTickAt = Date.now();
      tick(ms);
    },
    listen: (port, host) => listen(createServer(handler(registry, healthy)), port, host),
  };
}

/** GET /metrics, GET /healthz, and a 404 JSON for anything else. */
function handler(registry: Registry, healthy: () => boolean): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = req.method === 'GET' ? req.url?.split('?')[0] : undefined;
    if (path === '/metrics') {
      registry.metrics().then(
        (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (path === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'stalled' }));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not_found","message":"the worker serves only GET /metrics and GET /healthz"}');
  };
}

function listen(server: Server, port: number, host: string): Promise<{ port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    );
  });
}
