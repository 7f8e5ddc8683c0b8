import type { ServerResponse } from 'node:http';

// Where a connection's bytes go. The Node sink writes straight to the http.ServerResponse (no web-stream layer in the
// hot path); the web sink is a ReadableStream for runtimes and tests without a Node response (app.request()).

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

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  // nginx would otherwise buffer the response and deliver updates in bursts
  'X-Accel-Buffering': 'no',
};

export function nodeSink(res: ServerResponse): SseSink {
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();
  // Small, latency-sensitive writes: never wait for Nagle.
  res.socket?.setNoDelay(true);
  return {
    write: (chunk) => res.write(chunk),
    get bufferedBytes() {
      return res.writableLength;
    },
    end: () => res.end(),
    destroy: () => {
      res.destroy();
    },
    onDrain: (listener) => {
      res.on('drain', listener);
    },
    onClose: (listener) => {
      res.once('close', listener);
    },
  };
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
