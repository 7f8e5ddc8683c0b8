import { z } from 'zod';

// Every setting Orrery reads from the environment, with its default, in one place.
// Read once at start-up by the entry points; a bad value stops the process with a message naming it.

/** FANOUT_WRITER's values (see the schema). */
export const FANOUT_WRITERS = ['auto', 'native', 'js'] as const;

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

const isHostPort = (seed: string): boolean => {
  const m = /^[A-Za-z0-9.-]+:(\d{1,5})$/.exec(seed);
  return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 65535;
};

/** scheme://host[:port] (a trailing slash tolerated), http or https, nothing else. */
const isOrigin = (text: string): boolean => {
  if (!/^https?:\/\/[^/\s,*?#@]+\/?$/i.test(text)) return false;
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
};

const schema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** Unset: one process, in-memory broker, API + worker together. Set: API node only, joined by Redis. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  /**
   * Redis Cluster seeds, comma-separated host:port (any few masters; the rest is discovered). Set: API node only,
   * joined by the cluster with sharded pub/sub. Exclusive with REDIS_URL.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .refine(
      (v) => v.split(',').every(isHostPort),
      'must be comma-separated host:port seeds with ports 1-65535, e.g. "10.0.0.1:7000,10.0.0.2:7000"',
    )
    .optional(),
  /** Prefix of every Redis key and channel, so several deployments or tests can share one server. */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]*$/, 'may hold only letters, digits, ":", "_" and "-"').default('orrery:'),
  /** Worker tick period in milliseconds, aligned to the wall clock. */
  TICK_MS: positiveInt.min(100).default(1000),
  /**
   * Fraction of TICK_MS over which the worker spreads a tick's publishes, evenly by location (0: every location at the
   * tick instant). Spread, each API node fans out a steady trickle instead of the whole grid at once; ids stay the tick.
   */
  PUBLISH_SPREAD: z.coerce.number().min(0).max(0.9).default(0.9),
  /** How long the history of each location is kept for resuming clients. */
  HISTORY_SECONDS: positiveInt.default(300),
  HEARTBEAT_MS: positiveInt.default(15_000),
  /** A stream client whose socket has not drained for this long is closed as slow (its reconnect starts afresh). */
  SLOW_CLIENT_MS: positiveInt.default(30_000),
  /** Comma-separated grid location ids the worker computes; unset: the whole grid. For tests and small machines. */
  WORKER_LOCATIONS: z.string().regex(/^[a-z0-9-]+(,[a-z0-9-]+)*$/, 'must be comma-separated location ids').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Concurrent streams one client address may hold on this node (location and status streams); 0: no limit. */
  MAX_STREAMS_PER_CLIENT: z.coerce.number().int().min(0).default(64),
  /** Distinct exact-spot cells one client address may watch at once on this node (docs/exact-spot.md); 0: no limit. */
  MAX_SPOTS_PER_CLIENT: z.coerce.number().int().min(0).default(16),
  /** A connection that has not sent its whole first request head by then is closed (slowloris). */
  HEAD_TIMEOUT_MS: positiveInt.min(100).default(10_000),
  /** Unfinished request heads one client address may hold at once (trusted proxies exempt); more are closed at accept. */
  MAX_PENDING_HEADS_PER_CLIENT: positiveInt.default(32),
  /** Unfinished request heads the node holds at once; unset: a quarter of the process's open-file limit. */
  MAX_PENDING_HEADS: positiveInt.optional(),
  /** Peers whose X-Forwarded-For is believed (comma-separated IPs), e.g. nginx; anyone else is keyed by its socket address. */
  TRUSTED_PROXIES: z
    .string()
    .regex(/^[0-9A-Fa-f.:]+(,[0-9A-Fa-f.:]+)*$/, 'must be comma-separated IP addresses')
    .default('127.0.0.1,::1,::ffff:127.0.0.1'),
  /** Largest request head (request line + headers) in bytes; larger ones get a 431. */
  MAX_HEADER_BYTES: positiveInt.min(1024).max(1024 * 1024).default(16 * 1024),
  /** Bytes a stream client may leave unread (beyond its resume backlog) before it is closed as slow. */
  STREAM_QUEUE_BYTES: positiveInt.min(1024).default(1024 * 1024),
  /** The status channel: how often each node shares its presence and the cluster status is pushed. */
  STATUS_INTERVAL_MS: positiveInt.min(200).default(2000),
  /** `npm run worker` only: serve its Prometheus metrics (tick duration, skips, Redis) on this port; unset: none. */
  METRICS_PORT: port.optional(),
  /**
   * How an API node writes a message to its stream sockets: `native` in one call per message (dist/fanout.node, built
   * by `npm run build`; refuses to start without it), `js` one net.Socket write per client, `auto` native when built.
   */
  FANOUT_WRITER: z.enum(FANOUT_WRITERS).default('auto'),
  /**
   * Origins whose pages may call the API and open streams (CORS): `*` for any, or comma-separated origins
   * (`https://example.org,http://localhost:3000`); requests from any other origin get a 403. The service's own page
   * is always allowed.
   */
  CORS_ORIGINS: z
    .string()
    .refine(
      (v) => v.trim() === '*' || v.split(',').every((o) => isOrigin(o.trim())),
      'must be "*" or comma-separated origins like "https://example.org,http://localhost:3000"',
    )
    .default('*'),
  /** `on`: one JSON access-log line per request (with its X-Request-Id); `off`: none. */
  ACCESS_LOG: z.enum(['on', 'off']).default('on'),
  /** Status events kept for resuming status clients, and length of the join/leave activity feed. */
  STATUS_HISTORY: positiveInt.max(10_000).default(60),
}).superRefine((c, ctx) => {
  if (c.REDIS_URL && c.REDIS_CLUSTER_NODES) {
    ctx.addIssue({
      code: 'custom',
      path: ['REDIS_CLUSTER_NODES'],
      message: 'REDIS_URL is set too: pick one (REDIS_URL for one Redis, REDIS_CLUSTER_NODES for a Redis Cluster)',
    });
  }
});

export type Config = z.infer<typeof schema>;

/** A Redis Cluster seed node. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** REDIS_CLUSTER_NODES (`host:port,host:port`, validated by the schema) → seed nodes. */
export function parseClusterNodes(value: string): ClusterNode[] {
  return value.split(',').map((seed) => {
    const colon = seed.lastIndexOf(':');
    return { host: seed.slice(0, colon), port: Number(seed.slice(colon + 1)) };
  });
}

/** Where the Redis connections go: one server (REDIS_URL) or the seeds of a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisTarget = { url: string; nodes?: undefined } | { nodes: readonly ClusterNode[]; url?: undefined };

/** The Redis the configuration names, or undefined for the in-memory mode (one process). */
export function redisTarget(config: Pick<Config, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): RedisTarget | undefined {
  if (config.REDIS_CLUSTER_NODES) return { nodes: parseClusterNodes(config.REDIS_CLUSTER_NODES) };
  if (config.REDIS_URL) return { url: config.REDIS_URL };
  return undefined;
}

/** How long after a tick its last publish is due: the worker's grid slices, and each API node's exact-spot cells. */
export const publishSpreadMs = (config: Pick<Config, 'PUBLISH_SPREAD' | 'TICK_MS'>): number => Math.round(config.PUBLISH_SPREAD * config.TICK_MS);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates `env` (the process environment by default); empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0]);
      return `  ${key}=${JSON.stringify(env[key])}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
