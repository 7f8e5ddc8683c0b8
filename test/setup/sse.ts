import { request, type ClientRequest, type IncomingHttpHeaders } from 'node:http';

// A small SSE client on raw node:http: one connection, no reconnect (tests reconnect on purpose, with Last-Event-ID),
// every field kept (id, event, data, retry, comments) and every event stamped with its receive time.

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

/** Opens the stream; resolves on the response headers (any status: check `status`). */
export function openStream(url: string, options: SseRequest = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    let req: ClientRequest;
    const messages: SseMessage[] = [];
    const waiters = new Set<() => void>();
    let ended = false;
    let resolveEnded!: () => void;
    const endedP = new Promise<void>((r) => (resolveEnded = r));
    const finish = (): void => {
      if (ended) return;
      ended = true;
      resolveEnded();
      for (const w of [...waiters]) w();
    };
    req = request(url, { headers: { Accept: 'text/event-stream', ...options.headers }, agent: false }, (res) => {
      let buffer = '';
      let block: SseMessage = { comments: [], receivedAt: 0 };
      let blockHasFields = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split(/\r\n|\r|\n/);
        buffer = lines.pop()!;
        for (const line of lines) {
          if (line === '') {
            if (blockHasFields) {
              block.receivedAt = Date.now();
              messages.push(block);
            }
            block = { comments: [], receivedAt: 0 };
            blockHasFields = false;
            continue;
          }
          blockHasFields = true;
          if (line.startsWith(':')) {
            block.comments.push(line.slice(1).trimStart());
            continue;
          }
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'data') block.data = block.data === undefined ? value : `${block.data}\n${value}`;
          else if (field === 'id') block.id = value;
          else if (field === 'event') block.event = value;
          else if (field === 'retry') block.retry = Number(value);
        }
        for (const w of [...waiters]) w();
      });
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      const stream: SseStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages,
        updates: () => messages.filter((m) => m.event === 'update'),
        waitFor(predicate, timeoutMs = 10_000, what = 'messages') {
          return new Promise((ok, fail) => {
            const check = (): void => {
              if (predicate(messages)) {
                done();
                ok();
              } else if (ended) {
                done();
                fail(new Error(`stream ended before ${what}; got ${messages.length} messages`));
              }
            };
            const timer = setTimeout(() => {
              done();
              fail(new Error(`no ${what} within ${timeoutMs} ms; got ${messages.length} messages`));
            }, timeoutMs);
            const done = (): void => {
              clearTimeout(timer);
              waiters.delete(check);
            };
            waiters.add(check);
            check();
          });
        },
        ended: endedP,
        close: () => req.destroy(),
      };
      resolve(stream);
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
