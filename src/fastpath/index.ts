// The fast path, behind one entry point: what lets one API process hold tens of thousands of streams.
// - stream-front.ts: a connection whose first request is a plain stream GET is served on its bare socket (no Node
//   HTTP objects held per stream); everything else goes to the http.Server untouched.
// - socket-sink.ts: the sink of such a stream, exposing its socket descriptor.
// - capabilities.ts: what the fast path adds to the hub's core interfaces (a sink's descriptor, a client's batched
//   write), discovered by the hub and the connection, never optional methods of the core.
// - fanout.ts, batch-writer.ts: one message to a channel's sockets in one native call (FANOUT_WRITER=native), or
//   through each socket (js).
// - kernel-stall.ts: slow clients the kernel hides, found by asking it for each socket's queue.
// - native-addon.ts: loads native/fanout.c (dist/fanout.node), which the last two use.

import type { Socket } from 'node:net';
import { STREAM_SOCKET, type StreamFrontEnv } from './stream-front.ts';
import { SocketSink } from './socket-sink.ts';

export { installStreamFront, plainStreamHead, type StreamFrontOptions } from './stream-front.ts';
export { SocketSink, SSE_RESPONSE_HEAD, sseResponseHead } from './socket-sink.ts';
export {
  isDescriptorSink,
  isDirectWriteClient,
  type DescriptorSink,
  type DirectWriteClient,
  type Fanout,
} from './capabilities.ts';
export { fanoutFor } from './fanout.ts';
export { chooseBatchWriter, loadNativeBatchWriter, type BatchWriter } from './batch-writer.ts';
export { KernelStallWatch, loadKernelQueueProbe, type KernelQueueProbe, type Watched } from './kernel-stall.ts';

/**
 * The sink of a stream whose request came through the stream front (its env carries the bare socket), which it now
 * owns; undefined for any other request.
 */
export function socketSinkFor(env: unknown, extraHeaders?: Readonly<Record<string, string>>): SocketSink | undefined {
  const socket: Socket | undefined = (env as Partial<StreamFrontEnv> | undefined)?.[STREAM_SOCKET];
  return socket && new SocketSink(socket, extraHeaders);
}
