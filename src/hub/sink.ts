import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

// Where a connection's bytes go. The socket sink (a stream served straight on its socket, see http/stream-front.ts)
// and the Node sink (a stream on an http.ServerResponse) both hand each frame to the socket as it is: one write, no
// per-client encoding, no deferred uncork. The web sink is a ReadableStream for runtimes and tests without a Node
// response (app.request()).

export interface SseSink {
  /** Queues bytes; false when the sink's buffer is full and the caller should wait for drain. */
  write(chunk: Buffer): boolean;
  /** bytes accepted but not yet handed to the peer */
  readonly bufferedBytes: number;
  /** Graceful end, after what is buffered. */
  end(): void;
  /** Abort now, dropping what is buffered (a client that is not reading). */
  destroy(): void;
  onDrain(listener: () => void): void;
  /** The peer went away, or end/destroy completed. Called at most once. */
  onClose(listener: () => void): void;
  /**
   * Optional: the socket's descriptor when bytes written to it directly right now would follow everything written
   * before (nothing queued in Node or libuv) and it is open; else -1. For the hub's batched writes.
   */
  directFd?(): number;
  /** Optional: the socket's descriptor while it is open (else -1), for the kernel's view of its queue (kernel-stall.ts). */
  kernelFd?(): number;
  /** Optional batching: writes between cork() and uncork() leave in one go. */
  cork?(): void;
  uncork?(): void;
}

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  // nginx would otherwise buffer the response and deliver updates in bursts
  'X-Accel-Buffering': 'no',
};

/** The response head of a stream served on its own socket, with `extra` headers (CORS, the request id): the body ends when the connection does. */
export function sseResponseHead(extra?: Readonly<Record<string, string>>): Buffer {
  const headers = extra ? { ...SSE_HEADERS, ...extra } : SSE_HEADERS;
  return Buffer.from(
    `HTTP/1.1 200 OK\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}Connection: close\r\n\r\n`,
    'latin1',
  );
}

/** The head without extra headers, built once. */
export const SSE_RESPONSE_HEAD: Buffer = sseResponseHead();

/** A stream owning its socket: the head, then frames as they are, until the socket closes. */
export class SocketSink implements SseSink {
  /**
   * Node's (libuv's) descriptor of the TCP handle, -1 where there is none (Windows). Read once: it stays the socket's
   * until the socket is destroyed, after which directFd() never hands it out (it may then belong to another one).
   */
  private readonly fd: number;

  constructor(
    private readonly socket: Socket,
    extraHeaders?: Readonly<Record<string, string>>,
  ) {
    this.fd = (socket as unknown as { _handle: { fd?: number } | null })._handle?.fd ?? -1;
    // Small, latency-sensitive writes: never wait for Nagle.
    socket.setNoDelay(true);
    // A client that ends its side has gone (as Node's HTTP server treats it): close ours too.
    socket.once('end', () => socket.destroy());
    socket.write(extraHeaders ? sseResponseHead(extraHeaders) : SSE_RESPONSE_HEAD);
  }
  write(chunk: Buffer): boolean {
    return this.socket.write(chunk);
  }
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }
  directFd(): number {
    const socket = this.socket;
    // writableLength counts what is buffered and what libuv is still writing.
    if (socket.destroyed || socket.writableLength !== 0 || socket.writableCorked !== 0) return -1;
    return this.fd;
  }
  kernelFd(): number {
    return this.socket.destroyed ? -1 : this.fd;
  }
  end(): void {
    // The server allows half-open sockets; close ours once what is buffered has gone.
    this.socket.end(() => this.socket.destroy());
  }
  destroy(): void {
    // A reset, not a FIN: a FIN would queue behind the unread bytes, and the kernel would keep them (an orphan
    // socket) long after the close.
    if (this.socket.destroyed) return;
    this.socket.resetAndDestroy();
  }
  onDrain(listener: () => void): void {
    this.socket.on('drain', listener);
  }
  onClose(listener: () => void): void {
    this.socket.once('close', listener);
  }
  cork(): void {
    this.socket.cork();
  }
  uncork(): void {
    this.socket.uncork();
  }
}

const CRLF = Buffer.from('\r\n');
let lastFrame: Buffer | undefined;
let lastChunk: Buffer = CRLF;

/**
 * `frame` as one HTTP/1.1 chunk. The hub hands the same Buffer to every client in a row, so one cached entry means
 * the chunk is built once per message, not once per client.
 */
export function chunkOf(frame: Buffer): Buffer {
  if (frame !== lastFrame) {
    lastChunk = Buffer.concat([Buffer.from(`${frame.length.toString(16)}\r\n`, 'latin1'), frame, CRLF]);
    lastFrame = frame;
  }
  return lastChunk;
}

/**
 * A stream on an http.ServerResponse (a keep-alive connection that served other requests first):
 * headers through the response, then each frame written to the socket directly, chunk-encoded when the response is.
 * ServerResponse.write would encode per client and defer an uncork to the next tick, per client, per message.
 */
class NodeResponseSink implements SseSink {
  /** the socket when this response owns it (not queued behind a pipelined one) */
  private readonly socket: Socket | undefined;
  private readonly chunked: boolean;

  constructor(
    private readonly res: ServerResponse,
    extraHeaders?: Readonly<Record<string, string>>,
  ) {
    res.writeHead(200, extraHeaders ? { ...SSE_HEADERS, ...extraHeaders } : SSE_HEADERS);
    res.flushHeaders();
    this.socket = res.socket ?? undefined;
    this.chunked = res.chunkedEncoding;
    // Small, latency-sensitive writes: never wait for Nagle.
    this.socket?.setNoDelay(true);
  }
  write(chunk: Buffer): boolean {
    const socket = this.socket;
    if (!socket) return this.res.write(chunk);
    if (chunk.length === 0) return !socket.writableNeedDrain;
    return socket.write(this.chunked ? chunkOf(chunk) : chunk);
  }
  get bufferedBytes(): number {
    return this.socket ? this.socket.writableLength : this.res.writableLength;
  }
  end(): void {
    this.res.end();
  }
  destroy(): void {
    this.res.destroy();
  }
  onDrain(listener: () => void): void {
    (this.socket ?? this.res).on('drain', listener);
  }
  onClose(listener: () => void): void {
    this.res.once('close', listener);
  }
  cork(): void {
    this.socket?.cork();
  }
  uncork(): void {
    this.socket?.uncork();
  }
}

export function nodeSink(res: ServerResponse, extraHeaders?: Readonly<Record<string, string>>): SseSink {
  return new NodeResponseSink(res, extraHeaders);
}

export interface WebSink extends SseSink {
  readonly stream: ReadableStream<Uint8Array>;
}

export function webSink(highWaterMarkBytes = 64 * 1024): WebSink {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let open = true;
  const drainListeners: (() => void)[] = [];
  const closeListeners: (() => void)[] = [];
  const finish = (): void => {
    if (!open) return;
    open = false;
    for (const l of closeListeners.splice(0)) l();
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start: (c) => {
        controller = c;
      },
      pull: () => {
        for (const l of drainListeners) l();
      },
      cancel: finish,
    },
    { highWaterMark: highWaterMarkBytes, size: (chunk) => chunk.byteLength },
  );
  return {
    stream,
    write: (chunk) => {
      if (!open) return false;
      controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return (controller.desiredSize ?? 0) > 0;
    },
    get bufferedBytes() {
      return open ? Math.max(0, highWaterMarkBytes - (controller.desiredSize ?? 0)) : 0;
    },
    end: () => {
      if (open) controller.close();
      finish();
    },
    destroy: () => {
      if (open) controller.error(new Error('stream closed'));
      finish();
    },
    onDrain: (listener) => {
      drainListeners.push(listener);
    },
    onClose: (listener) => {
      if (open) closeListeners.push(listener);
      else listener();
    },
  };
}
