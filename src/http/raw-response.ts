import { STATUS_CODES } from 'node:http';

// The one place HTTP/1.1 response bytes are written by hand, for the paths that write to a socket without Node's
// ServerResponse: a stream's response head on its bare socket, the front's complete answers, the answers to requests
// Node's parser refused, and the chunk framing of a stream on a chunked ServerResponse.

/** A status line and the header lines as given (names as they are, in order), then the blank line and `body`. */
export function rawResponse(status: number, headers: Iterable<readonly [string, string]>, body?: Buffer): Buffer {
  let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  const head = Buffer.from(`${text}\r\n`, 'latin1');
  return body && body.length > 0 ? Buffer.concat([head, body]) : head;
}

/** A JSON error answer in the API's shape, closing the connection. */
export function rawJsonError(status: number, error: string, message: string): Buffer {
  const body = Buffer.from(JSON.stringify({ error, message }));
  return rawResponse(
    status,
    [
      ['Content-Type', 'application/json'],
      ['Content-Length', String(body.length)],
      ['Connection', 'close'],
    ],
    body,
  );
}

const CRLF = Buffer.from('\r\n');

/**
 * Frames as HTTP/1.1 chunks. The hub hands the same Buffer to every client in a row, so one cached entry means the
 * chunk is built once per message, not once per client: share one encoder between the streams of an endpoint.
 */
export class ChunkEncoder {
  private lastFrame: Buffer | undefined;
  private lastChunk: Buffer = CRLF;

  chunkOf(frame: Buffer): Buffer {
    if (frame !== this.lastFrame) {
      this.lastChunk = Buffer.concat([Buffer.from(`${frame.length.toString(16)}\r\n`, 'latin1'), frame, CRLF]);
      this.lastFrame = frame;
    }
    return this.lastChunk;
  }
}
