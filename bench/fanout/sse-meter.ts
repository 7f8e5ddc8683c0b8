// The load client's per-connection parser: an HTTP/1.1 response head, a chunked or close-delimited body, and the SSE
// events in it, from raw socket bytes. It keeps no text: for each event that carries a snapshot it reports two numbers,
// the tick (from `"time":"<ISO>"`) and the publish instant (from `"publishedAt":<ms>`), which both Orrery's snapshots
// and the nchan publisher's messages carry. Comments (heartbeats) and the retry hint are counted, not reported.
// Bytes of an event split across reads are copied into a small carry buffer; everything else is read in place.

const HEAD = 0;
const CHUNK_SIZE = 1;
const CHUNK_DATA = 2;
const CHUNK_END = 3;
const RAW = 4;
const DONE = 5;

const HEAD_END = Buffer.from('\r\n\r\n');
const EVENT_END = Buffer.from('\n\n');
const PUBLISHED_AT = Buffer.from('"publishedAt":');
const DELTA_LINE = Buffer.from('\nevent: delta\n');
const TIME = Buffer.from('"time":"');
/** An event larger than this is not something either server sends: the stream is broken. */
const MAX_CARRY = 1 << 20;
const MAX_HEAD = 16 * 1024;

export type MeterListener = (tick: number, publishedAt: number) => void;

export class SseMeter {
  status = 0;
  /** why the stream is unusable (non-200, wrong type, malformed framing), once known */
  failure: string | undefined;
  /** events without a snapshot: comments, retry hints */
  others = 0;
  private phase = HEAD;
  private head = '';
  private chunkLeft = 0;
  private sizeLine = '';
  private endLeft = 0;
  private carry: Buffer | undefined;

  constructor(private readonly onSnapshot: MeterListener) {}

  get ended(): boolean {
    return this.phase === DONE;
  }

  /** Feeds bytes [start, end) of `buf`; `buf` may be reused by the caller afterwards. */
  feed(buf: Buffer, start = 0, end = buf.length): void {
    let i = start;
    while (i < end && this.phase !== DONE) {
      switch (this.phase) {
        case HEAD:
          i = this.readHead(buf, i, end);
          break;
        case RAW:
          this.body(buf, i, end);
          i = end;
          break;
        case CHUNK_SIZE: {
          const lf = buf.indexOf(10, i);
          if (lf < 0 || lf >= end) {
            this.sizeLine += buf.toString('latin1', i, end);
            if (this.sizeLine.length > 64) this.fail('chunk size line too long');
            i = end;
            break;
          }
          const line = (this.sizeLine + buf.toString('latin1', i, lf)).trim();
          this.sizeLine = '';
          i = lf + 1;
          const size = Number.parseInt(line.split(';')[0]!, 16);
          if (!Number.isFinite(size) || size < 0) {
            this.fail(`bad chunk size ${JSON.stringify(line)}`);
            break;
          }
          if (size === 0) {
            this.phase = DONE;
            break;
          }
          this.chunkLeft = size;
          this.phase = CHUNK_DATA;
          break;
        }
        case CHUNK_DATA: {
          const n = Math.min(this.chunkLeft, end - i);
          this.body(buf, i, i + n);
          i += n;
          this.chunkLeft -= n;
          if (this.chunkLeft === 0) {
            this.phase = CHUNK_END;
            this.endLeft = 2;
          }
          break;
        }
        case CHUNK_END: {
          // CRLF after the chunk data
          const n = Math.min(this.endLeft, end - i);
          i += n;
          this.endLeft -= n;
          if (this.endLeft === 0) this.phase = CHUNK_SIZE;
          break;
        }
      }
    }
  }

  private readHead(buf: Buffer, i: number, end: number): number {
    const text = this.head + buf.toString('latin1', i, end);
    const at = text.indexOf('\r\n\r\n');
    if (at < 0) {
      this.head = text;
      if (text.length > MAX_HEAD) this.fail('response head too long');
      return end;
    }
    const consumed = at + HEAD_END.length - this.head.length;
    const lines = text.slice(0, at).split('\r\n');
    this.head = '';
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    this.status = m ? Number(m[1]) : 0;
    let type = '';
    let chunked = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-type') type = value;
      else if (name === 'transfer-encoding') chunked = value.includes('chunked');
    }
    if (this.status !== 200) this.fail(`HTTP ${this.status || '?'}`);
    else if (!type.startsWith('text/event-stream')) this.fail(`content-type ${type || '(none)'}`);
    else this.phase = chunked ? CHUNK_SIZE : RAW;
    return i + consumed;
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    this.phase = DONE;
    this.carry = undefined;
  }

  /** SSE bytes [start, end) of buf. */
  private body(buf: Buffer, start: number, end: number): void {
    let view: Buffer;
    if (this.carry) {
      view = Buffer.concat([this.carry, buf.subarray(start, end)]);
      this.carry = undefined;
    } else {
      view = buf.subarray(start, end);
    }
    let from = 0;
    for (;;) {
      const at = view.indexOf(EVENT_END, from);
      if (at < 0) break;
      this.event(view, from, at);
      from = at + EVENT_END.length;
    }
    if (from < view.length) {
      if (view.length - from > MAX_CARRY) {
        this.fail('event larger than 1 MiB');
        return;
      }
      // The caller's buffer is reused after feed(): keep our own copy of the partial event.
      this.carry = Buffer.from(view.subarray(from));
    }
  }

  /** One event, bytes [start, end) of view (without its blank line). */
  private event(view: Buffer, start: number, end: number): void {
    // A comment (heartbeat) or a bare retry hint cannot hold a snapshot.
    if (view[start] === 0x3a /* : */ || end - start < PUBLISHED_AT.length) {
      this.others++;
      return;
    }
    const p = view.lastIndexOf(PUBLISHED_AT, end - 1);
    const t = view.indexOf(TIME, start);
    // A delta (?format=delta) carries no publishedAt: its latency is counted from its tick instant.
    const delta = p < start && view.subarray(start, Math.min(end, start + 64)).includes(DELTA_LINE);
    if ((p < start && !delta) || t < 0 || t >= end) {
      this.others++;
      return;
    }
    const tick = isoMillis(view, t + TIME.length);
    const publishedAt = delta ? tick : digits(view, p + PUBLISHED_AT.length, end);
    if (publishedAt < 0 || tick < 0) {
      this.others++;
      return;
    }
    this.onSnapshot(tick, publishedAt);
  }
}

/** The non-negative integer written at view[i..], or -1. */
function digits(view: Buffer, i: number, end: number): number {
  let n = 0;
  let any = false;
  for (; i < end; i++) {
    const c = view[i]! - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
    any = true;
  }
  return any ? n : -1;
}

const d2 = (v: Buffer, i: number): number => (v[i]! - 48) * 10 + (v[i + 1]! - 48);

/** `YYYY-MM-DDTHH:MM:SS.sssZ` at view[i..] → epoch ms, or -1. */
export function isoMillis(view: Buffer, i: number): number {
  if (view.length < i + 24 || view[i + 4] !== 0x2d || view[i + 10] !== 0x54 || view[i + 23] !== 0x5a) return -1;
  const year = d2(view, i) * 100 + d2(view, i + 2);
  const ms = (view[i + 20]! - 48) * 100 + d2(view, i + 21);
  const t = Date.UTC(year, d2(view, i + 5) - 1, d2(view, i + 8), d2(view, i + 11), d2(view, i + 14), d2(view, i + 17), ms);
  return Number.isFinite(t) ? t : -1;
}
