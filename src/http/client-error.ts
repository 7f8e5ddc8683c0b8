import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { rawJsonError } from './raw-response.ts';

// Requests Node rejects before the app sees them (a head over MAX_HEADER_BYTES, a malformed request line): answered
// with the same JSON error shape as everything else instead of Node's bare status line, then the socket is closed.

export function installClientErrorHandler(server: Server, maxHeaderBytes: number): void {
  const tooLarge = rawJsonError(431, 'header_too_large', `request line and headers must be at most ${maxHeaderBytes} bytes`);
  const bad = rawJsonError(400, 'bad_request', 'malformed HTTP request');
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A reset or a timeout has nobody to answer; a response already under way cannot get a second status line.
    if (err.code === 'ECONNRESET' || !socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    socket.end(err.code === 'HPE_HEADER_OVERFLOW' ? tooLarge : bad);
  });
}
