import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';

// A connection whose first request is GET (or HEAD) /stream… is served on its bare socket: the request head is read
// here, the app answers it as usual (validation, admission, 404/400/302 JSON), and a stream then writes its frames
// straight to the socket for as long as it lives. Node's HTTP machinery (parser, IncomingMessage, ServerResponse,
// per-socket listeners: about 6 kB per connection) is never attached to it; at tens of thousands of streams per
// process that is most of the memory. Every other connection is handed to the http.Server untouched, bytes
// included, and a /stream request on such a (keep-alive) connection still works through the ServerResponse path.

/** Key in the app's env (c.env) under which a stream finds the socket it may take over. */
export const STREAM_SOCKET = Symbol.for('orrery.streamSocket');

export interface StreamFrontEnv {
  [STREAM_SOCKET]: Socket;
  /** what @hono/node-server's bindings offer, for code that reads the peer address (client-ip.ts, conninfo) */
  incoming: { socket: Socket };
}

export interface StreamFrontOptions {
  fetch: (request: Request, env: StreamFrontEnv) => Response | Promise<Response>;
  /** largest request head; larger gets 431 (same limit as the http.Server's maxHeaderSize) */
  maxHeaderBytes: number;
  /** a connection that has not sent a whole head by then is closed (default 30 s) */
  headersTimeoutMs?: number;
  /** unexpected failures (a 500) */
  onError?: (err: unknown) => void;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const ignoreError = (): void => {};
const CANDIDATES = ['GET /stream', 'HEAD /stream'].map((s) => Buffer.from(s, 'latin1'));

type Verdict = 'stream' | 'http' | 'more';

/** From the first bytes: a fresh /stream request (whole head, no body, nothing pipelined behind it), or not. */
function classify(buf: Buffer): Verdict {
  let prefixOk = false;
  for (const c of CANDIDATES) {
    const n = Math.min(c.length, buf.length);
    if (buf.compare(c, 0, n, 0, n) !== 0) continue;
    if (buf.length <= c.length) return 'more';
    const next = buf[c.length];
    // /stream, /stream/<id>, /stream?… — not /streams or /stream-x
    if (next === 0x20 || next === 0x2f || next === 0x3f) prefixOk = true;
  }
  if (!prefixOk) return 'http';
  const end = buf.indexOf(HEAD_END);
  if (end < 0) return 'more';
  // Anything after the head (a pipelined request, a body) is Node's to parse.
  if (end + HEAD_END.length !== buf.length) return 'http';
  return 'stream';
}

interface Head {
  method: string;
  target: string;
  headers: [string, string][];
}

function parseHead(buf: Buffer): Head | undefined {
  const lines = buf.toString('latin1', 0, buf.length - HEAD_END.length).split('\r\n');
  const m = /^(GET|HEAD) (\/\S*) HTTP\/1\.[01]$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return { method: m[1]!, target: m[2]!, headers };
}

/** A complete answer on the bare socket, then close (the front serves one request per connection). */
async function writeResponse(socket: Socket, res: Response, head: boolean): Promise<void> {
  const body = head ? Buffer.alloc(0) : Buffer.from(await res.arrayBuffer());
  let text = `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}\r\n`;
  res.headers.forEach((value, name) => {
    if (name === 'content-length' || name === 'connection' || name === 'transfer-encoding') return;
    text += `${name}: ${value}\r\n`;
  });
  if (!head || res.headers.has('content-length')) text += `content-length: ${head ? res.headers.get('content-length') : body.length}\r\n`;
  text += 'connection: close\r\n\r\n';
  socket.end(Buffer.concat([Buffer.from(text, 'latin1'), body]), () => socket.destroy());
}

function refuse(socket: Socket, status: number, error: string, message: string): void {
  void writeResponse(socket, Response.json({ error, message }, { status }), false);
}

/**
 * Puts the front before `server`'s own connection handling. Call once, before the server accepts connections.
 */
export function installStreamFront(server: Server, options: StreamFrontOptions): void {
  const headersTimeoutMs = options.headersTimeoutMs ?? 30_000;
  const httpListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');

  const toHttp = (socket: Socket, bytes: Buffer | undefined): void => {
    socket.pause();
    socket.off('error', ignoreError); // Node's server has its own
    if (bytes) socket.unshift(bytes);
    for (const l of httpListeners) l.call(server, socket);
    // Resumed before the event loop polls again, so the bytes handed back reach Node's parser before any new ones.
    socket.resume();
  };

  const serveStream = async (socket: Socket, bytes: Buffer): Promise<void> => {
    const head = parseHead(bytes);
    if (!head) {
      refuse(socket, 400, 'bad_request', 'malformed HTTP request');
      return;
    }
    let request: Request;
    try {
      const host = head.headers.find(([k]) => k.toLowerCase() === 'host')?.[1] || 'localhost';
      request = new Request(new URL(head.target, `http://${host}`), { method: head.method, headers: head.headers });
    } catch {
      refuse(socket, 400, 'bad_request', 'malformed HTTP request');
      return;
    }
    const env: StreamFrontEnv = { [STREAM_SOCKET]: socket, incoming: { socket } };
    try {
      const res = await options.fetch(request, env);
      if (res === RESPONSE_ALREADY_SENT) return; // the stream owns the socket now
      await writeResponse(socket, res, head.method === 'HEAD');
    } catch (err) {
      options.onError?.(err);
      if (!socket.destroyed) refuse(socket, 500, 'internal_error', 'unexpected server error');
    }
  };

  // Connections still sending their first head are the front's, not yet the http.Server's, so its idle-connection
  // sweep would miss them, and server.close() would wait for them (a browser's speculative pre-connect sends nothing
  // until it is used). They are idle connections: the server's own sweeps (close() runs one) close them too.
  const waiting = new Set<Socket>();
  const closeIdle = server.closeIdleConnections.bind(server);
  const closeAll = server.closeAllConnections.bind(server);
  const closeWaiting = (): void => {
    for (const socket of waiting) socket.destroy();
  };
  server.closeIdleConnections = () => {
    closeWaiting();
    closeIdle();
  };
  server.closeAllConnections = () => {
    closeWaiting();
    closeAll();
  };

  server.on('connection', (socket: Socket) => {
    let bytes: Buffer | undefined;
    waiting.add(socket);
    let timer: NodeJS.Timeout | undefined = setTimeout(() => socket.destroy(), headersTimeoutMs);
    timer.unref();
    // Until Node's own handlers (or a stream) take over, a reset must not become an uncaught 'error'. A shared
    // function: nothing of this closure stays attached to a long-lived stream's socket.
    socket.on('error', ignoreError);
    const onData = (chunk: Buffer): void => {
      bytes = bytes ? Buffer.concat([bytes, chunk]) : chunk;
      const verdict = classify(bytes);
      // The head of a stream request is all we read; Node applies the same limit to everything else.
      if (verdict !== 'http' && bytes.length > options.maxHeaderBytes) {
        done();
        refuse(socket, 431, 'header_too_large', `request line and headers must be at most ${options.maxHeaderBytes} bytes`);
        return;
      }
      if (verdict === 'more') return;
      const head = bytes;
      done();
      if (verdict === 'http') toHttp(socket, head);
      else void serveStream(socket, head);
    };
    const done = (): void => {
      waiting.delete(socket);
      clearTimeout(timer);
      timer = undefined;
      bytes = undefined;
      socket.off('data', onData);
    };
    socket.on('data', onData);
    socket.once('close', () => waiting.delete(socket));
  });
}
