import type { Socket } from 'node:net';
import { rawResponse } from '../http/raw-response.ts';
import { SSE_HEADERS, type CorkableSink } from '../hub/sink.ts';
import type { DescriptorSink } from './capabilities.ts';

// A stream owning its socket (served by stream-front.ts): the head, then each frame handed to the socket as it is,
// until the socket closes. Its descriptor is what the batched writer and the kernel-stall probe use.

/** The response head of a stream served on its own socket, with `extra` headers (CORS, the request id): the body ends when the connection does. */
export function sseResponseHead(extra?: Readonly<Record<string, string>>): Buffer {
  const headers = extra ? { ...SSE_HEADERS, ...extra } : SSE_HEADERS;
  return rawResponse(200, [...Object.entries(headers), ['Connection', 'close']]);
}

/** The head without extra headers, built once. */
export const SSE_RESPONSE_HEAD: Buffer = sseResponseHead();

/** Node's (libuv's) descriptor of a socket's TCP handle, -1 where there is none (Windows). */
const descriptorOf = (socket: Socket): number => (socket as unknown as { _handle: { fd?: number } | null })._handle?.fd ?? -1;

export class SocketSink implements DescriptorSink, CorkableSink {
  /**
   * Read once: it stays the socket's until the socket is destroyed, after which directFd() never hands it out (it
   * may then belong to another one).
   */
  private readonly fd: number;

  constructor(
    private readonly socket: Socket,
    extraHeaders?: Readonly<Record<string, string>>,
  ) {
    this.fd = descriptorOf(socket);
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
