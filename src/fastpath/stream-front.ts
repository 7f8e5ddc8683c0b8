import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { rawResponse } from '../http/raw-response.ts';

// A connection whose first request is a plain GET (or HEAD) of a stream route is served on its bare socket: the
// request head is read here, the app answers it as usual (validation, admission, 404/400/302 JSON), and a stream
// then writes its frames straight to the socket for as long as it lives. Node's HTTP machinery (parser,
// IncomingMessage, ServerResponse, per-socket listeners: several times what the stream itself holds) is never
// attached to it; at tens of thousands of streams per process that is most of the memory
// (bench/fanout/memory-per-stream.ts compares the two). Every other connection (any other path, any head that is not
// plain) is handed to the http.Server untouched, bytes included, and a /stream request on such a (keep-alive)
// connection still works through the ServerResponse path.

/** Key in the app's env (c.env) under which a stream finds the socket it may take over. */
export const STREAM_SOCKET = Symbol.for('orrery.streamSocket');

export interface StreamFrontEnv {
  [STREAM_SOCKET]: Socket;
  /** what @hono/node-server's bindings offer, for code that reads the peer address (client-ip.ts, conninfo) */
  incoming: { socket: Socket; url: string };
}

export interface StreamFrontOptions {
  fetch: (request: Request, env: StreamFrontEnv) => Response | Promise<Response>;
  /** largest request head; larger gets 431 (same limit as the http.Server's maxHeaderSize) */
  maxHeaderBytes: number;
  /** a connection that has not sent a whole first head by then is closed (HEAD_TIMEOUT_MS; default 10 s) */
  headTimeoutMs?: number;
  /** unfinished first heads one address may hold at once (MAX_PENDING_HEADS_PER_CLIENT); default: no cap */
  maxPendingPerClient?: number;
  /** unfinished first heads the node holds at once, all addresses (MAX_PENDING_HEADS); default: no cap */
  maxPending?: number;
  /** peers not capped per address (a proxy carries many clients, and sends whole heads) */
  trusted?: ReadonlySet<string>;
  /** a connection refused at accept because of a cap */
  onRefused?: (cap: 'per_client' | 'total') => void;
  /** unexpected failures (a 500) */
  onError?: (err: unknown) => void;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const ignoreError = (): void => {};
const CANDIDATES = ['GET /stream', 'HEAD /stream'].map((s) => Buffer.from(s, 'latin1'));
/** Node's own limit on header lines (http.Server maxHeadersCount); a plain stream head needs a handful. */
const MAX_HEADER_LINES = 100;

/**
 * The only heads the front reads itself: a request line naming exactly a stream route, HTTP/1.1, then `name: value`
 * lines (a token, the colon right after it, visible characters), exactly one Host, no body framing, CRLF throughout.
 * Anything else (obs-fold, bare LF, odd whitespace, a body, a path with dot segments or backslashes) goes to Node's
 * parser, which answers it by RFC 9112 and then the app's routes, so the front never widens what the node accepts.
 */
const REQUEST_LINE = /^(GET|HEAD) (\/stream(?:\/[a-z0-9-]{1,64})?(?:\?[!$&-;=?@-Z_a-z~]*)?) HTTP\/1\.1$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?[ \t]*$/;

interface Head {
  method: string;
  target: string;
  headers: [string, string][];
}

/** The head, when it is one the front serves itself; undefined: Node's parser must read it. */
export function plainStreamHead(text: string): Head | undefined {
  if (!text.endsWith('\r\n\r\n')) return undefined;
  const lines = text.slice(0, -4).split('\r\n');
  if (lines.length - 1 > MAX_HEADER_LINES) return undefined;
  const m = REQUEST_LINE.exec(lines[0]!);
  if (!m) return undefined;
  const headers: [string, string][] = [];
  let hosts = 0;
  for (let i = 1; i < lines.length; i++) {
    const h = HEADER_LINE.exec(lines[i]!);
    if (!h) return undefined;
    const name = h[1]!.toLowerCase();
    if (name === 'host') hosts++;
    else if (name === 'content-length' || name === 'transfer-encoding' || name === 'upgrade' || name === 'expect') return undefined;
    headers.push([h[1]!, h[2] ?? '']);
  }
  if (hosts !== 1) return undefined;
  return { method: m[1]!, target: m[2]!, headers };
}

/** A complete answer on the bare socket, then close (the front serves one request per connection). */
async function writeResponse(socket: Socket, res: Response, head: boolean): Promise<void> {
  const body = head ? undefined : Buffer.from(await res.arrayBuffer());
  const headers: [string, string][] = [];
  res.headers.forEach((value, name) => {
    if (name === 'content-length' || name === 'connection' || name === 'transfer-encoding') return;
    headers.push([name, value]);
  });
  if (!head || res.headers.has('content-length')) headers.push(['content-length', head ? res.headers.get('content-length')! : String(body!.length)]);
  headers.push(['connection', 'close']);
  socket.end(rawResponse(res.status, headers, body), () => socket.destroy());
}

function refuse(socket: Socket, status: number, error: string, message: string): void {
  void writeResponse(socket, Response.json({ error, message }, { status }), false);
}

const normalise = (ip: string | undefined): string => (ip?.startsWith('::ffff:') ? ip.slice(7) : (ip ?? 'unknown'));
/** Set on a socket whose first head is still unfinished; called once it is (or the socket closes). */
const PENDING = Symbol('orrery.pendingHead');
type PendingSocket = Socket & { [PENDING]?: () => void };

/** A client that closes its side before finishing a head will never finish it. Shared: no closure per socket. */
function destroyOnEnd(this: Socket): void {
  this.destroy();
}

/** Releases `socket` from the unfinished heads (its head is whole, or it is gone); safe to call when it is not one. */
const releasePending = (socket: Socket): void => (socket as PendingSocket)[PENDING]?.();

/**
 * Connections whose first request head is unfinished: capped per address and in total, closed past the head timeout,
 * closed when the client ends its side first.
 */
class PendingHeads {
  private readonly byAddress = new Map<string, number>();
  /** oldest first */
  private readonly sockets = new Set<Socket>();
  private readonly headTimeoutMs: number;
  private readonly maxPerClient: number;
  private readonly maxTotal: number;
  private readonly trusted: ReadonlySet<string>;

  constructor(private readonly options: StreamFrontOptions) {
    this.headTimeoutMs = options.headTimeoutMs ?? 10_000;
    this.maxPerClient = options.maxPendingPerClient ?? Infinity;
    this.maxTotal = options.maxPending ?? Infinity;
    this.trusted = options.trusted ?? new Set();
  }

  /** Counts `socket` until releasePending(socket); false (the socket destroyed) when its address is over its cap. */
  admit(socket: Socket): boolean {
    const address = normalise(socket.remoteAddress);
    const capped = !this.trusted.has(address);
    const mine = capped ? (this.byAddress.get(address) ?? 0) : 0;
    if (capped && mine >= this.maxPerClient) {
      this.options.onRefused?.('per_client');
      socket.destroy();
      return false;
    }
    // Over the total, the oldest unfinished head goes: a real client's head arrives within a round trip, so it is
    // the connections that sat longest (a slowloris) that make room, and a new /healthz or stream still gets in.
    if (this.sockets.size >= this.maxTotal) {
      const oldest = this.sockets.values().next().value!;
      this.options.onRefused?.('total');
      releasePending(oldest); // released now, not when its close event comes
      oldest.destroy();
    }
    this.sockets.add(socket);
    if (capped) this.byAddress.set(address, mine + 1);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.sockets.delete(socket);
      if (capped) {
        const left = (this.byAddress.get(address) ?? 1) - 1;
        if (left <= 0) this.byAddress.delete(address);
        else this.byAddress.set(address, left);
      }
      clearTimeout(timer);
      socket.off('end', destroyOnEnd);
      socket.off('close', release);
      delete (socket as PendingSocket)[PENDING];
    };
    (socket as PendingSocket)[PENDING] = release;
    const timer = setTimeout(() => {
      socket.destroy();
    }, this.headTimeoutMs);
    timer.unref();
    socket.on('end', destroyOnEnd);
    socket.on('close', release);
    return true;
  }

  /** Closes every connection still sending its first head. */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

/**
 * Reads `socket`'s first head: `plain` with it when the front serves it itself (the socket then paused for no one:
 * its data listener removed), `other` with the bytes read so far when Node's parser must read them.
 */
function readFirstHead(
  socket: Socket,
  maxHeaderBytes: number,
  plain: (head: Head) => void,
  other: (bytes: Buffer | undefined) => void,
): void {
  // The head's chunks, joined once: each chunk is scanned once for the end (plus the 3 bytes before it).
  const chunks: Buffer[] = [];
  let length = 0;
  let tail: Buffer = Buffer.alloc(0);
  let verified = false;
  const handOver = (): void => {
    socket.off('data', onData);
    other(chunks.length ? Buffer.concat(chunks, length) : undefined);
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    length += chunk.length;
    if (!verified) {
      // Only the first few bytes are ever joined for this.
      const start = chunks.length === 1 ? chunk : Buffer.concat(chunks, length);
      if (!isCandidate(start)) {
        handOver();
        return;
      }
      verified = start.length > CANDIDATES[1]!.length;
    }
    const scan = tail.length ? Buffer.concat([tail, chunk]) : chunk;
    // A line ended by a bare LF is not a plain head; Node's parser decides what it is.
    for (let i = scan.indexOf(0x0a); i >= 0; i = scan.indexOf(0x0a, i + 1)) {
      if (i === 0 ? tail.length === 0 : scan[i - 1] !== 0x0d) {
        handOver();
        return;
      }
    }
    const end = scan.indexOf(HEAD_END);
    if (end < 0) {
      tail = scan.subarray(Math.max(0, scan.length - 3));
      if (length > maxHeaderBytes) {
        socket.off('data', onData);
        refuse(socket, 431, 'header_too_large', `request line and headers must be at most ${maxHeaderBytes} bytes`);
      }
      return;
    }
    const headEnd = length - scan.length + end + HEAD_END.length;
    // Anything after the head (a pipelined request, a body) is Node's to parse, as is any head not plain.
    const head =
      headEnd === length && length <= maxHeaderBytes ? plainStreamHead(Buffer.concat(chunks, length).toString('latin1')) : undefined;
    if (!head) {
      handOver();
      return;
    }
    socket.off('data', onData);
    plain(head);
  };
  socket.on('data', onData);
}

/** Answers a plain head through the app; a stream then owns the socket, anything else is written and the socket closed. */
async function serveHead(socket: Socket, head: Head, options: StreamFrontOptions): Promise<void> {
  let request: Request;
  try {
    const host = head.headers.find(([k]) => k.toLowerCase() === 'host')![1] || 'localhost';
    request = new Request(`http://${host}${head.target}`, { method: head.method, headers: head.headers });
  } catch {
    refuse(socket, 400, 'bad_request', 'malformed HTTP request');
    return;
  }
  const env: StreamFrontEnv = { [STREAM_SOCKET]: socket, incoming: { socket, url: head.target } };
  try {
    const res = await options.fetch(request, env);
    if (res === RESPONSE_ALREADY_SENT) return; // the stream owns the socket now
    await writeResponse(socket, res, head.method === 'HEAD');
  } catch (err) {
    options.onError?.(err);
    if (!socket.destroyed) refuse(socket, 500, 'internal_error', 'unexpected server error');
  }
}

/**
 * Puts the front before `server`'s own connection handling. Call once, before the server accepts connections.
 * Every connection counts as an unfinished head until its first request head is whole (served here, or parsed by
 * Node: the server's 'request'); over a cap it is closed at accept, past `headTimeoutMs` it is closed, and a client
 * that closes its side meanwhile is released at once.
 */
export function installStreamFront(server: Server, options: StreamFrontOptions): void {
  const httpListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const pending = new PendingHeads(options);
  server.on('request', (req: IncomingMessage) => releasePending(req.socket));

  /** Hands the socket to Node's HTTP server, with the bytes read so far; it stays pending until Node's 'request'. */
  const toHttp = (socket: Socket, bytes: Buffer | undefined): void => {
    socket.off('end', destroyOnEnd); // Node's server decides what a half-closed connection gets
    socket.pause();
    socket.off('error', ignoreError); // Node's server has its own
    if (bytes) socket.unshift(bytes);
    for (const l of httpListeners) l.call(server, socket);
    // Resumed before the event loop polls again, so the bytes handed back reach Node's parser before any new ones.
    socket.resume();
  };

  // Connections still sending their first head are the front's, not yet the http.Server's, so its idle-connection
  // sweep would miss them, and server.close() would wait for them (a browser's speculative pre-connect sends nothing
  // until it is used). They are idle connections: the server's own sweeps (close() runs one) close them too.
  const closeIdle = server.closeIdleConnections.bind(server);
  const closeAll = server.closeAllConnections.bind(server);
  server.closeIdleConnections = () => {
    pending.destroyAll();
    closeIdle();
  };
  server.closeAllConnections = () => {
    pending.destroyAll();
    closeAll();
  };

  server.on('connection', (socket: Socket) => {
    if (!pending.admit(socket)) return;
    // Until Node's own handlers (or a stream) take over, a reset must not become an uncaught 'error'. A shared
    // function: nothing of this closure stays attached to a long-lived stream's socket.
    socket.on('error', ignoreError);
    readFirstHead(
      socket,
      options.maxHeaderBytes,
      (head) => {
        releasePending(socket);
        void serveHead(socket, head, options);
      },
      (bytes) => toHttp(socket, bytes),
    );
  });
}

/** Whether the bytes so far can still begin `GET /stream…` or `HEAD /stream…` (followed by ` `, `/` or `?`). */
function isCandidate(buf: Buffer): boolean {
  for (const c of CANDIDATES) {
    const n = Math.min(c.length, buf.length);
    if (buf.compare(c, 0, n, 0, n) !== 0) continue;
    if (buf.length <= c.length) return true;
    const next = buf[c.length];
    if (next === 0x20 || next === 0x2f || next === 0x3f) return true;
  }
  return false;
}
