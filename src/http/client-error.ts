import type { Server } from 'node:http';
import type { Socket } from 'node:net';

// Requests Node rejects before the app sees them (a head over MAX_HEADER_BYTES, a malformed request line): answered
// with the same JSON error shape as everything else instead of Node's bare status line, then the socket is closed.

const reply = (status: number, text: string, error: string, message: string): Buffer => {
  const body = JSON.stringify({ error, message });
  return Buffer.from(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  );
};

export function installClientErrorHandler(server: Server, maxHeaderBytes: number): void {
  const tooLarge = reply(
    431,
    'Request Header Fields Too Large',
    'header_too_large',
    `request line and headers must be at most ${maxHeaderBytes} bytes`,
  );
  const bad = reply(400, 'Bad Request', 'bad_request', 'malformed HTTP request');
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // A reset or a timeout has nobody to answer; a response already under way cannot get a second status line.
    if (err.code === 'ECONNRESET' || !socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    socket.end(err.code === 'HPE_HEADER_OVERFLOW' ? tooLarge : bad);
  });
}
