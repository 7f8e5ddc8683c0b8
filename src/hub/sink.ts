import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ChunkEncoder } from '../http/raw-response.ts';

// Where a connection's bytes go. The socket sink (a stream served straight on its socket, fastpath/socket-sink.ts)
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
}

/** A sink on a socket that can batch: writes between cork() and uncork() leave in one go. */
export interface CorkableSink extends SseSink {
  cork(): void;
  uncork(): void;
}

export const isCorkable = (sink: SseSink): sink is CorkableSink => 'cork' in sink;

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  // nginx would otherwise buffer the response and deliver updates in bursts
  'X-Accel-Buffering': 'no',
};

/**
 * A stream on an http.ServerResponse (a keep-alive connection that served other requests first):
 * headers through the response, then each frame written to the socket directly, chunk-encoded when the response is.
 * ServerResponse.write would encode per client and defer an uncork to the next tick, per client, per message.
 */
class NodeResponseSink implements CorkableSink {
  /** the socket when this response owns it (not queued behind a pipelined one) */
  private readonly socket: Socket | undefined;
  private readonly chunked: boolean;

  constructor(
    private readonly res: ServerResponse,
    private readonly chunks: ChunkEncoder,
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
    return socket.write(this.chunked ? this.chunks.chunkOf(chunk) : chunk);
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

/** `chunks`: one encoder shared by the streams that get the same frames (see ChunkEncoder). */
export function nodeSink(res: ServerResponse, chunks: ChunkEncoder, extraHeaders?: Readonly<Record<string, string>>): SseSink {
  return new NodeResponseSink(res, chunks, extraHeaders);
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
