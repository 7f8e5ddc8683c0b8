import type { RedisOptions } from 'ioredis';

// How every Orrery connection to Redis (or to one node of a Redis Cluster) behaves, broker and presence store alike:
// fail fast rather than queue, reconnect on one schedule, and leave cleanly.

/**
 * The one reconnect schedule: doubling from 50 ms, at most half a second between attempts, so live updates resume
 * within about a second of Redis coming back.
 */
export const reconnectDelay = (attempt: number): number => Math.min(50 * 2 ** Math.min(attempt, 4), 500);

/**
 * Options of one connection. Fail fast instead of queueing or retrying: a tick that cannot go out now is worthless
 * later (the next one follows), and a stream client is better told to retry than left hanging.
 */
export function failFastOptions(o: { connectionName: string; commandTimeoutMs: number }): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: o.commandTimeoutMs,
    connectTimeout: 5000,
    connectionName: o.connectionName,
    retryStrategy: reconnectDelay,
  };
}

/** A refusal of one command by the server (WRONGTYPE, MOVED…), as opposed to a connection or timeout failure. */
export function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError';
}

/** Replies that say "this server or shard cannot serve right now", as opposed to a refusal of one command. */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|MASTERDOWN|READONLY)\b/;

/** Whether `err` means the backend cannot serve now (the caller should skip or retry), not that it refused. */
export const isUnavailable = (err: Error): boolean => !isReplyError(err) || UNAVAILABLE_REPLY.test(err.message);

/** QUIT when connected (lets in-flight replies arrive), otherwise just drop the sockets and stop reconnecting. */
export async function quitGracefully(conn: { status: string; quit(): Promise<unknown>; disconnect(): void }): Promise<void> {
  if (conn.status !== 'ready') {
    conn.disconnect();
    return;
  }
  const timer = setTimeout(() => conn.disconnect(), 1000);
  try {
    await conn.quit();
  } catch {
    conn.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

/** The URL with its password hidden, for logs. */
export const redactUrl = (url: string): string => url.replace(/\/\/([^@/]*)@/, '//***@');
