import { request, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { createGunzip } from 'node:zlib';

// A small SSE client on raw node:http that behaves like a browser's EventSource where it matters here:
// it parses the event stream per the HTML spec, remembers the last event id and the server's `retry`,
// and when a stream ends or breaks it reconnects with `Last-Event-ID`. A non-200 or non-event-stream
// answer fails the client for good, as EventSource does. Every event is stamped with its receive instant.

export interface SseEvent {
  id: string;
  event: string;
  data: string;
  /** Date.now() when the blank line that ends the event arrived. */
  receivedAt: number;
  /** Index into `connections` of the connection that carried it. */
  connection: number;
}

export interface SseConnection {
  status: number;
  headers: IncomingHttpHeaders;
  /** The Last-Event-ID this connection was opened with. */
  lastEventId: string | undefined;
  openedAt: number;
  closedAt?: number;
}

export interface SseClient {
  readonly events: SseEvent[];
  readonly connections: SseConnection[];
  /** Set once the client gave up (non-200 / wrong type), as EventSource's CLOSED state. */
  readonly failure: string | undefined;
  /** Resolves when `predicate` holds for the events so far; rejects after `timeoutMs`. */
  waitFor(what: string, predicate: (events: readonly SseEvent[]) => boolean, timeoutMs: number): Promise<void>;
  close(): void;
}

export interface SseOptions {
  lastEventId?: string;
  /** Reconnect when the stream ends (EventSource behaviour); default true. */
  reconnect?: boolean;
  /** Reconnection delay until the server sends `retry:`; EventSource's default is UA-defined. */
  retryMs?: number;
}

export function openSse(url: string, options: SseOptions = {}): SseClient {
  const events: SseEvent[] = [];
  const connections: SseConnection[] = [];
  const waiters = new Set<() => void>();
  let lastEventId = options.lastEventId;
  let retryMs = options.retryMs ?? 2000;
  let closed = false;
  let failure: string | undefined;
  let current: ClientRequest | undefined;
  let timer: NodeJS.Timeout | undefined;

  const notify = (): void => {
    for (const w of [...waiters]) w();
  };

  const scheduleReconnect = (): void => {
    if (closed || failure || options.reconnect === false) return;
    timer = setTimeout(connect, retryMs);
  };

  function connect(): void {
    const index = connections.length;
    // Browsers offer gzip on every request; a proxy that compresses streams must show up here too.
    const headers: Record<string, string> = { Accept: 'text/event-stream', 'Cache-Control': 'no-cache', 'Accept-Encoding': 'gzip' };
    if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
    const openedWith = lastEventId;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      const conn = connections[index];
      if (conn) conn.closedAt = Date.now();
      notify();
      scheduleReconnect();
    };

    const req = request(url, { headers, agent: false });
    current = req;
    req.on('response', (res) => {
      connections[index] = { status: res.statusCode ?? 0, headers: res.headers, lastEventId: openedWith, openedAt: Date.now() };
      const type = String(res.headers['content-type'] ?? '');
      if (res.statusCode !== 200 || !type.startsWith('text/event-stream')) {
        failure = `HTTP ${res.statusCode} ${type}`;
        res.resume();
        end();
        return;
      }
      // Per-event fields, reset by each dispatch (spec: "data buffer", "event type buffer").
      let buffer = '';
      let data: string[] = [];
      let eventType = '';
      const body: NodeJS.ReadableStream = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
      body.setEncoding('utf8');
      body.on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split(/\r\n|\n|\r/);
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          if (line === '') {
            if (data.length > 0) {
              events.push({ id: lastEventId ?? '', event: eventType || 'message', data: data.join('\n'), receivedAt: Date.now(), connection: index });
            }
            data = [];
            eventType = '';
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'data') data.push(value);
          else if (field === 'event') eventType = value;
          else if (field === 'id' && !value.includes('\0')) lastEventId = value;
          else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
        }
        notify();
      });
      body.on('end', end);
      body.on('error', end);
      res.on('close', end);
      res.on('error', end);
    });
    req.on('error', end);
    req.end();
  }

  connect();

  return {
    events,
    connections,
    get failure() {
      return failure;
    },
    waitFor(what, predicate, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (predicate(events)) {
            done();
            resolve();
          } else if (failure) {
            done();
            reject(new Error(`${what}: the stream failed (${failure})`));
          }
        };
        const timeout = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${events.length} events over ${connections.length} connections`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timeout);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close() {
      closed = true;
      clearTimeout(timer);
      current?.destroy();
    },
  };
}

/** The X-Upstream address that served a connection (nginx lists every node it tried; the last one answered). */
export function servedBy(conn: SseConnection): string {
  const value = String(conn.headers['x-upstream'] ?? '');
  return value.split(',').at(-1)!.trim();
}
