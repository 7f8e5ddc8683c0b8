import { describe, expect, it } from 'vitest';
import { ChunkEncoder, rawJsonError, rawResponse } from '../../../src/http/raw-response.ts';
import { SSE_RESPONSE_HEAD, sseResponseHead } from '../../../src/fastpath/index.ts';

// The one writer of hand-made HTTP/1.1 bytes: status line, header lines as given, blank line, body; chunk framing.

describe('raw HTTP responses', () => {
  it('writes the status line with its reason, the headers in order, the blank line, then the body', () => {
    const bytes = rawResponse(404, [['Content-Type', 'text/plain'], ['Content-Length', '2']], Buffer.from('no'));
    expect(bytes.toString('latin1')).toBe('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nno');
  });

  it('answers in the API error shape with a length that counts bytes, not characters', () => {
    const text = rawJsonError(431, 'header_too_large', 'at most 8 KiB · please').toString('utf8');
    const [head, body] = text.split('\r\n\r\n') as [string, string];
    expect(head.split('\r\n')).toEqual([
      'HTTP/1.1 431 Request Header Fields Too Large',
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
    ]);
    expect(Buffer.byteLength(body)).toBeGreaterThan(body.length);
    expect(JSON.parse(body)).toEqual({ error: 'header_too_large', message: 'at most 8 KiB · please' });
  });

  it("a stream's head on its own socket carries the SSE headers, the extra ones, and closes with the connection", () => {
    expect(SSE_RESPONSE_HEAD.toString('latin1')).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n',
    );
    expect(sseResponseHead({ 'X-Request-Id': 'abc' }).toString('latin1')).toContain('X-Accel-Buffering: no\r\nX-Request-Id: abc\r\nConnection: close\r\n\r\n');
  });
});

describe('ChunkEncoder', () => {
  it('frames as a chunk, built once per frame, and two encoders never share what they cached', () => {
    const a = new ChunkEncoder();
    const b = new ChunkEncoder();
    const one = Buffer.from('data: 1\n\n');
    const two = Buffer.from('data: twenty\n\n');
    const chunk = a.chunkOf(one);
    expect(chunk.toString()).toBe('9\r\ndata: 1\n\n\r\n');
    expect(a.chunkOf(one)).toBe(chunk); // the same Buffer for the next client
    expect(b.chunkOf(two).toString()).toBe('e\r\ndata: twenty\n\n\r\n');
    expect(a.chunkOf(one)).toBe(chunk);
    expect(a.chunkOf(two).toString()).toBe('e\r\ndata: twenty\n\n\r\n');
  });
});
