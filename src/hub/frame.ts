// The one place SSE bytes are produced. A message is framed once and the same Buffer goes to every client.

export interface SseFields {
  id?: string | number;
  event?: string;
  /** may span lines: each line becomes its own `data:` line, as the SSE format requires */
  data?: string;
  /** reconnection delay hint, milliseconds */
  retry?: number;
  /** a comment line (`: text`), ignored by clients; used for heartbeats */
  comment?: string;
}

export class SseFrameError extends Error {
  override name = 'SseFrameError';
}

const LINE_BREAK = /[\r\n]/;
const LINES = /\r\n|\r|\n/;

function singleLine(field: string, value: string): string {
  // A line break would end the field early and let the rest be read as another field (or another event).
  if (LINE_BREAK.test(value)) throw new SseFrameError(`SSE ${field} must not contain CR or LF`);
  // Clients ignore an id containing NUL, which would silently break resume.
  if (field === 'id' && value.includes('\0')) throw new SseFrameError('SSE id must not contain NUL');
  return value;
}

export function frame(fields: SseFields): Buffer {
  let out = '';
  if (fields.comment !== undefined) {
    for (const line of fields.comment.split(LINES)) out += `: ${line}\n`;
  }
  if (fields.retry !== undefined) {
    if (!Number.isSafeInteger(fields.retry) || fields.retry < 0) {
      throw new SseFrameError(`SSE retry must be a non-negative integer, got ${fields.retry}`);
    }
    out += `retry: ${fields.retry}\n`;
  }
  if (fields.id !== undefined) out += `id: ${singleLine('id', String(fields.id))}\n`;
  if (fields.event !== undefined) out += `event: ${singleLine('event', fields.event)}\n`;
  if (fields.data !== undefined) {
    const data = fields.data;
    // A snapshot is JSON on one line: found with two plain scans, which cost far less than a split.
    if (!data.includes('\n') && !data.includes('\r')) out += `data: ${data}\n`;
    else for (const line of data.split(LINES)) out += `data: ${line}\n`;
  }
  if (out === '') throw new SseFrameError('an SSE frame needs at least one field');
  return Buffer.from(`${out}\n`, 'utf8');
}

export const HEARTBEAT_FRAME: Buffer = frame({ comment: 'heartbeat' });
