import type { BodyPosition } from './types.ts';
import { DECIMALS, POW10, formatRounded } from './wire-precision.ts';

// JSON.stringify(bodies), byte for byte, for positions from the fast path (numbers rounded to DECIMALS;
// strings that need no escaping: body names, IAU abbreviations, ISO times), several times cheaper.
//
// Concatenating ~130 small strings per location makes a deep rope that V8 must flatten before the
// bytes go anywhere, which costs as much as JSON.stringify. Everything here is ASCII, so the writer puts
// bytes into its own scratch buffer and decodes it once per call.

const encode = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

const K_ALT = encode(',"alt":');
const K_RA = encode(',"ra":');
const K_DEC = encode(',"dec":');
const K_DISTANCE = encode(',"distance":');

// Per body name: `{"name":"moon","az":` (a memo of a pure function).
const PREFIX = new Map<string, Uint8Array>();

function prefixOf(name: string): Uint8Array {
  let e = PREFIX.get(name);
  if (e === undefined) {
    e = encode('{"name":' + JSON.stringify(name) + ',"az":');
    PREFIX.set(name, e);
  }
  return e;
}

function encodeBright(b: BodyPosition): Uint8Array {
  return encode(',"magnitude":' + formatRounded(b.magnitude, DECIMALS.magnitude) + ',"phase":' + formatRounded(b.phase, DECIMALS.phase));
}

function encodeTail(b: BodyPosition): Uint8Array {
  const q = (v: string | null): string => (v === null ? 'null' : '"' + v + '"');
  return encode(
    ',"constellation":"' + b.constellation + '","aboveHorizon":' + b.aboveHorizon +
      ',"rise":' + q(b.rise) + ',"transit":' + q(b.transit) + ',"set":' + q(b.set) + '}',
  );
}

interface Tail {
  constellation: string;
  aboveHorizon: boolean;
  rise: string | null;
  transit: string | null;
  set: string | null;
  bytes: Uint8Array;
}

function sameTail(t: Tail, b: BodyPosition): boolean {
  return (
    t.constellation === b.constellation &&
    t.aboveHorizon === b.aboveHorizon &&
    t.rise === b.rise &&
    t.transit === b.transit &&
    t.set === b.set
  );
}

/**
 * A serialiser with memory: for each slot (a grid location × body), the segment from the constellation
 * to the end of the object changes only when a constellation, the horizon side or an event does, so it
 * is kept encoded and copied whole; the magnitude/phase segment is the same for every location of a
 * tick, so it is kept per body until the values change. The grid keeps one writer for all its locations.
 */
export class BodiesJsonWriter {
  private buf = Buffer.allocUnsafeSlow(16 * 1024);
  private pos = 0;
  private readonly tails: (Tail | undefined)[] = [];
  private readonly bright = new Map<string, { magnitude: number; phase: number; bytes: Uint8Array }>();

  /** JSON.stringify(bodies), byte for byte; `slot` names where these bodies belong (e.g. the location's index). */
  write(bodies: readonly BodyPosition[], slot: number): string {
    this.pos = 0;
    this.ensure(64 + bodies.length * 512);
    this.buf[this.pos++] = 91; // '['
    const base = slot * bodies.length;
    for (let i = 0; i < bodies.length; i++) {
      const b = bodies[i]!;
      if (i > 0) this.buf[this.pos++] = 44; // ','
      this.putNumbers(b);
      let t = this.tails[base + i];
      if (t === undefined || !sameTail(t, b)) {
        t = { constellation: b.constellation, aboveHorizon: b.aboveHorizon, rise: b.rise, transit: b.transit, set: b.set, bytes: encodeTail(b) };
        this.tails[base + i] = t;
      }
      this.putSegment(t.bytes);
    }
    this.buf[this.pos++] = 93; // ']'
    return this.buf.toString('latin1', 0, this.pos);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** `{"name":…,"az":…,"alt":…,"ra":…,"dec":…,"distance":…,"magnitude":…,"phase":…` */
  private putNumbers(b: BodyPosition): void {
    this.putSegment(prefixOf(b.name));
    this.putRounded(b.az, DECIMALS.az);
    this.putBytes(K_ALT);
    this.putRounded(b.alt, DECIMALS.alt);
    this.putBytes(K_RA);
    this.putRounded(b.ra, DECIMALS.ra);
    this.putBytes(K_DEC);
    this.putRounded(b.dec, DECIMALS.dec);
    this.putBytes(K_DISTANCE);
    this.putRounded(b.distance, DECIMALS.distance);
    this.putSegment(this.brightOf(b));
  }

  private brightOf(b: BodyPosition): Uint8Array {
    const hit = this.bright.get(b.name);
    if (hit !== undefined && hit.magnitude === b.magnitude && hit.phase === b.phase) return hit.bytes;
    const bytes = encodeBright(b);
    this.bright.set(b.name, { magnitude: b.magnitude, phase: b.phase, bytes });
    return bytes;
  }

  private putAscii(s: string): void {
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  private putBytes(src: Uint8Array): void {
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < src.length; i++) buf[p++] = src[i]!;
    this.pos = p;
  }

  /** Copies longer pre-encoded segments with one native memcpy instead of a byte loop. */
  private putSegment(src: Uint8Array): void {
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** Non-negative integer below 2^31, in decimal. */
  private putUint31(n: number): void {
    const buf = this.buf;
    if (n < 10) {
      buf[this.pos++] = 48 + n;
      return;
    }
    let len = 1;
    for (let v = n; v >= 10; v = (v / 10) | 0) len++;
    let p = this.pos + len;
    this.pos = p;
    while (n >= 10) {
      const q = (n / 10) | 0;
      buf[--p] = 48 + n - q * 10;
      n = q;
    }
    buf[--p] = 48 + n;
  }

  /** n (below 2^31) as exactly `width` digits, zero-padded. */
  private putFixedWidth(n: number, width: number): void {
    const buf = this.buf;
    let p = this.pos + width;
    this.pos = p;
    for (let k = 0; k < width; k++) {
      const q = (n / 10) | 0;
      buf[--p] = 48 + n - q * 10;
      n = q;
    }
  }

  /** formatRounded(x, decimals), written into the buffer. */
  private putRounded(x: number, decimals: number): void {
    const ax = x < 0 ? -x : x;
    const f = POW10[decimals]!;
    if ((ax < 1e-6 && ax !== 0) || ax * f >= 2 ** 49 || decimals < 6) {
      this.putAscii(String(x));
      return;
    }
    const n = Math.round(ax * f);
    const ip = Math.floor(n / f);
    const frac = n - ip * f;
    if (x < 0) this.buf[this.pos++] = 45; // '-'
    this.putUint31(ip);
    if (frac === 0) return;
    this.buf[this.pos++] = 46; // '.'
    if (decimals <= 9) {
      this.putFixedWidth(frac, decimals);
    } else {
      const lowDigits = decimals - 6;
      const hi = Math.floor(frac / POW10[lowDigits]!);
      this.putFixedWidth(hi, 6);
      this.putFixedWidth(frac - hi * POW10[lowDigits]!, lowDigits);
    }
    const buf = this.buf;
    while (buf[this.pos - 1] === 48) this.pos--; // trailing zeros (there is a non-zero digit: frac > 0)
  }
}
