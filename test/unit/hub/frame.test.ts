import { describe, expect, it } from 'vitest';
import { HEARTBEAT_FRAME, SseFrameError, frame } from '../../../src/hub/frame.ts';

describe('frame', () => {
  it('writes id, event and data lines and the blank line that ends the event, as bytes', () => {
    const b = frame({ id: 1795310959000, event: 'update', data: '{"a":"é"}' });
    expect(Buffer.isBuffer(b)).toBe(true);
    expect(b.toString('utf8')).toBe('id: 1795310959000\nevent: update\ndata: {"a":"é"}\n\n');
  });

  it('splits multi-line data into one data line per line, whatever the line break', () => {
    expect(frame({ data: 'a\nb\r\nc\rd' }).toString()).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
  });

  it('writes retry hints and comments', () => {
    expect(frame({ retry: 2000 }).toString()).toBe('retry: 2000\n\n');
    expect(HEARTBEAT_FRAME.toString()).toBe(': heartbeat\n\n');
    expect(frame({ comment: 'a\nb' }).toString()).toBe(': a\n: b\n\n');
  });

  it.each([
    ['id', { id: '1\n2' }],
    ['id', { id: '1\r2' }],
    ['id', { id: 'a\0b' }],
    ['event', { event: 'update\nevent: evil' }],
    ['event', { event: 'up\rdate' }],
  ])('rejects CR, LF (and NUL in ids) in %s', (_field, fields) => {
    expect(() => frame({ ...fields, data: 'x' })).toThrow(SseFrameError);
  });

  it('rejects a bad retry and an empty frame', () => {
    expect(() => frame({ retry: -1 })).toThrow(SseFrameError);
    expect(() => frame({ retry: 1.5 })).toThrow(SseFrameError);
    expect(() => frame({})).toThrow(SseFrameError);
  });
});
