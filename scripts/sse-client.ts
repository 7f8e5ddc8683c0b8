import { request, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { createGunzip } from 'node:zlib';
import { Waiters } from './waiters.ts';

// SSE clients on raw node:http, one event-stream parser (HTML spec line and field rules) under two ways of use:
// - openSse: behaves like a browser's EventSource where it matters here: it remembers the last event id and the
//   server's `retry`, and when a stream ends or breaks it reconnects with `Last-Event-ID`. A non-200 or
//   non-event-stream answer fails the client for good, as EventSource does.
// - openStream: one connection, no reconnect (tests reconnect on purpose, with Last-Event-ID), every block kept
//   as sent (id, event, data, retry, comments), including retry-only and comment-only ones.
// Every event is stamped with its receive instant.

interface SseLineHandlers {
  field(name: string, value: string): void;
  comment(text: string): void;
  /** A blank line: the end of a block. */
  blank(): void;
}

/** Returns a function to feed decoded text to; it splits lines (CRLF, LF or CR) and fields across chunk boundaries. */
function sseLineParser(on: SseLineHandlers): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    const lines = buffer.split(/\r\n|\n|\r/);
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') on.blank();
      else if (line.startsWith(':')) on.comment(line.slice(1));
      else {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        on.field(field, value);
      }
    }
  };
}

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
  const waiters = new Waiters();
  let lastEventId = options.lastEventId;
  let retryMs = options.retryMs ?? 2000;
  let closed = false;
  let failure: string | undefined;
  let current: ClientRequest | undefined;
  let timer: NodeJS.Timeout | undefined;

  const notify = (): void => waiters.notify();

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
      let data: string[] = [];
      let eventType = '';
      const parse = sseLineParser({
        blank() {
          if (data.length > 0) {
            events.push({ id: lastEventId ?? '', event: eventType || 'message', data: data.join('\n'), receivedAt: Date.now(), connection: index });
          }
          data = [];
          eventType = '';
        },
        comment() {},
        field(field, value) {
          if (field === 'data') data.push(value);
          else if (field === 'event') eventType = value;
          else if (field === 'id' && !value.includes('\0')) lastEventId = value;
          else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
        },
      });
      const body: NodeJS.ReadableStream = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
      body.setEncoding('utf8');
      body.on('data', (chunk: string) => {
        parse(chunk);
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
      return waiters.wait(
        () => {
          if (predicate(events)) return { value: undefined };
          if (failure) return new Error(`${what}: the stream failed (${failure})`);
          return undefined;
        },
        timeoutMs,
        () => new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${events.length} events over ${connections.length} connections`),
      );
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

export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comments: string[];
  receivedAt: number;
}

export interface SseStream {
  status: number;
  headers: IncomingHttpHeaders;
  /** every block (event, retry-only or comment-only) in arrival order */
  messages: SseMessage[];
  /** messages with `event: update` */
  updates(): SseMessage[];
  /** Resolves when predicate holds over the messages so far; rejects on timeout or when the stream ends first. */
  waitFor(predicate: (messages: SseMessage[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  ended: Promise<void>;
  close(): void;
}

export interface SseRequest {
  headers?: Record<string, string>;
}

/** Opens one stream; resolves on the response headers (any status: check `status`). */
export function openStream(url: string, options: SseRequest = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const messages: SseMessage[] = [];
    const waiters = new Waiters();
    let ended = false;
    let resolveEnded!: () => void;
    const endedP = new Promise<void>((r) => (resolveEnded = r));
    const finish = (): void => {
      if (ended) return;
      ended = true;
      resolveEnded();
      waiters.notify();
    };
    const req: ClientRequest = request(url, { headers: { Accept: 'text/event-stream', ...options.headers }, agent: false }, (res) => {
      let block: SseMessage = { comments: [], receivedAt: 0 };
      let blockHasFields = false;
      const parse = sseLineParser({
        blank() {
          if (blockHasFields) {
            block.receivedAt = Date.now();
            messages.push(block);
          }
          block = { comments: [], receivedAt: 0 };
          blockHasFields = false;
        },
        comment(text) {
          blockHasFields = true;
          block.comments.push(text.trimStart());
        },
        field(field, value) {
          blockHasFields = true;
          if (field === 'data') block.data = block.data === undefined ? value : `${block.data}\n${value}`;
          else if (field === 'id') block.id = value;
          else if (field === 'event') block.event = value;
          else if (field === 'retry') block.retry = Number(value);
        },
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        parse(chunk);
        waiters.notify();
      });
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages,
        updates: () => messages.filter((m) => m.event === 'update'),
        waitFor(predicate, timeoutMs = 10_000, what = 'messages') {
          return waiters.wait(
            () => {
              if (predicate(messages)) return { value: undefined };
              if (ended) return new Error(`stream ended before ${what}; got ${messages.length} messages`);
              return undefined;
            },
            timeoutMs,
            () => new Error(`no ${what} within ${timeoutMs} ms; got ${messages.length} messages`),
          );
        },
        ended: endedP,
        close: () => req.destroy(),
      });
    });
    req.on('error', (err) => {
      finish();
      reject(err);
    });
    req.end();
  });
}

/** Convenience: an update's snapshot. */
export function snapshotOf(m: SseMessage): { location: { id: string }; time: string; bodies: Record<string, unknown>[]; publishedAt: number } {
  return JSON.parse(m.data ?? 'null');
}
