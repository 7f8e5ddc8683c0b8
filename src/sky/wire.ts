import type { BodyPosition } from './types.ts';

// Wire precision of BodyPosition numbers, and a serialiser for them.
//
// Both paths (computeBody and the grid) round their numbers here, so the stream and GET /planets carry
// the same values. The steps are far below the engine's accuracy (1e-7° is 0.00036"), and short
// decimals let bodiesJson() format numbers with integer arithmetic: JSON.stringify's shortest-double
// conversion was the largest single cost of a 1000-location tick.

export const DECIMALS = {
  az: 7,
  alt: 7,
  /** hours: 1e-8 h is 0.00054" */
  ra: 8,
  dec: 7,
  /** AU: 1e-12 AU is 15 cm */
  distance: 12,
  magnitude: 6,
  phase: 8,
} as const;

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12] as const;

/** x rounded to `decimals` places (the double nearest to the decimal; never -0). */
export function roundTo(x: number, decimals: number): number {
  const f = POW10[decimals]!;
  const r = Math.round(x * f) / f;
  return r === 0 ? 0 : r;
}

const ZEROS = '000000000000';

/**
 * String(x) for an x already rounded by roundTo(x, decimals), without the generic shortest-double
 * algorithm: the same characters JSON.stringify writes.
 */
export function formatRounded(x: number, decimals: number): string {
  const ax = x < 0 ? -x : x;
  const f = POW10[decimals]!;
  // Below 1e-6 JavaScript writes an exponent; and once the double's spacing nears the decimal step,
  // the shortest form may have fewer digits than ours. Leave both to String().
  if ((ax < 1e-6 && ax !== 0) || ax * f >= 2 ** 49) return String(x);
  const n = Math.round(ax * f);
  const ip = Math.floor(n / f);
  let frac = n - ip * f;
  const sign = x < 0 ? '-' : '';
  if (frac === 0) return sign + ip;
  let digits = decimals;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  const fs = '' + frac;
  return sign + ip + '.' + (fs.length < digits ? ZEROS.slice(0, digits - fs.length) + fs : fs);
}

// ---- bodiesJson: one flat string per call ---------------------------------------------------------
// Concatenating ~130 small strings per location makes a deep rope that V8 must flatten before the
// bytes go anywhere, which costs as much as JSON.stringify. Everything here is ASCII (body names, IAU
// abbreviations, ISO times, numbers), so we write bytes into one scratch buffer and decode it once.

let BUF = Buffer.allocUnsafeSlow(16 * 1024);
let POS = 0;

function ensure(extra: number): void {
  if (POS + extra <= BUF.length) return;
  const next = Buffer.allocUnsafeSlow(Math.max(BUF.length * 2, POS + extra));
  BUF.copy(next, 0, 0, POS);
  BUF = next;
}

function putAscii(s: string): void {
  const buf = BUF;
  let p = POS;
  for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
  POS = p;
}

function putBytes(src: Uint8Array): void {
  const buf = BUF;
  let p = POS;
  for (let i = 0; i < src.length; i++) buf[p++] = src[i]!;
  POS = p;
}

const encode = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

function putQuoted(s: string): void {
  const buf = BUF;
  let p = POS;
  buf[p++] = 34;
  for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
  buf[p++] = 34;
  POS = p;
}

/** Non-negative integer below 2^31, in decimal. */
function putUint31(n: number): void {
  const buf = BUF;
  if (n < 10) {
    buf[POS++] = 48 + n;
    return;
  }
  let len = 1;
  for (let v = n; v >= 10; v = (v / 10) | 0) len++;
  let p = POS + len;
  POS = p;
  while (n >= 10) {
    const q = (n / 10) | 0;
    buf[--p] = 48 + n - q * 10;
    n = q;
  }
  buf[--p] = 48 + n;
}

/** n (below 2^31) as exactly `width` digits, zero-padded. */
function putFixedWidth(n: number, width: number): void {
  const buf = BUF;
  let p = POS + width;
  POS = p;
  for (let k = 0; k < width; k++) {
    const q = (n / 10) | 0;
    buf[--p] = 48 + n - q * 10;
    n = q;
  }
}

/** formatRounded(x, decimals), written into the buffer. */
function putRounded(x: number, decimals: number): void {
  const ax = x < 0 ? -x : x;
  const f = POW10[decimals]!;
  if ((ax < 1e-6 && ax !== 0) || ax * f >= 2 ** 49 || decimals < 6) {
    putAscii(String(x));
    return;
  }
  const n = Math.round(ax * f);
  const ip = Math.floor(n / f);
  const frac = n - ip * f;
  if (x < 0) BUF[POS++] = 45; // '-'
  putUint31(ip);
  if (frac === 0) return;
  BUF[POS++] = 46; // '.'
  if (decimals <= 9) {
    putFixedWidth(frac, decimals);
  } else {
    const lowDigits = decimals - 6;
    const hi = Math.floor(frac / POW10[lowDigits]!);
    putFixedWidth(hi, 6);
    putFixedWidth(frac - hi * POW10[lowDigits]!, lowDigits);
  }
  while (BUF[POS - 1] === 48) POS--; // trailing zeros (there is a non-zero digit: frac > 0)
}

const NULL = encode('null');
const K_ALT = encode(',"alt":');
const K_RA = encode(',"ra":');
const K_DEC = encode(',"dec":');
const K_DISTANCE = encode(',"distance":');
const K_CONSTELLATION = encode(',"constellation":');
const K_ABOVE_TRUE_RISE = encode(',"aboveHorizon":true,"rise":');
const K_ABOVE_FALSE_RISE = encode(',"aboveHorizon":false,"rise":');
const K_TRANSIT = encode(',"transit":');
const K_SET = encode(',"set":');

function putNullable(s: string | null): void {
  if (s === null) putBytes(NULL);
  else putQuoted(s);
}

// Per body name: `{"name":"moon","az":`; and the magnitude/phase segment, which is the same for
// every location of a tick, kept per body until the values change.
const PREFIX = new Map<string, Uint8Array>();
const BRIGHT = new Map<string, { magnitude: number; phase: number; bytes: Uint8Array }>();

function prefixOf(name: string): Uint8Array {
  let e = PREFIX.get(name);
  if (e === undefined) {
    e = encode('{"name":' + JSON.stringify(name) + ',"az":');
    PREFIX.set(name, e);
  }
  return e;
}

function brightOf(b: BodyPosition): Uint8Array {
  const hit = BRIGHT.get(b.name);
  if (hit !== undefined && hit.magnitude === b.magnitude && hit.phase === b.phase) return hit.bytes;
  const bytes = encode(
    ',"magnitude":' + formatRounded(b.magnitude, DECIMALS.magnitude) + ',"phase":' + formatRounded(b.phase, DECIMALS.phase),
  );
  BRIGHT.set(b.name, { magnitude: b.magnitude, phase: b.phase, bytes });
  return bytes;
}

/** Copies longer pre-encoded segments with one native memcpy instead of a byte loop. */
function putSegment(src: Uint8Array): void {
  BUF.set(src, POS);
  POS += src.length;
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

/**
 * bodiesJson() with memory: for each slot (a grid location × body), the segment from the
 * constellation to the end of the object changes only when a constellation, the horizon side or an
 * event does, so it is kept encoded and copied whole. The grid uses one writer for all its locations.
 */
export class BodiesJsonWriter {
  private readonly tails: (Tail | undefined)[] = [];

  /** JSON.stringify(bodies), byte for byte; `slot` names where these bodies belong (e.g. the location's index). */
  write(bodies: readonly BodyPosition[], slot: number): string {
    POS = 0;
    ensure(64 + bodies.length * 512);
    BUF[POS++] = 91; // '['
    const base = slot * bodies.length;
    for (let i = 0; i < bodies.length; i++) {
      const b = bodies[i]!;
      if (i > 0) BUF[POS++] = 44; // ','
      putNumbers(b);
      let t = this.tails[base + i];
      if (
        t === undefined ||
        t.constellation !== b.constellation ||
        t.aboveHorizon !== b.aboveHorizon ||
        t.rise !== b.rise ||
        t.transit !== b.transit ||
        t.set !== b.set
      ) {
        t = { constellation: b.constellation, aboveHorizon: b.aboveHorizon, rise: b.rise, transit: b.transit, set: b.set, bytes: encodeTail(b) };
        this.tails[base + i] = t;
      }
      putSegment(t.bytes);
    }
    BUF[POS++] = 93; // ']'
    return BUF.toString('latin1', 0, POS);
  }
}

/** `{"name":…,"az":…,"alt":…,"ra":…,"dec":…,"distance":…,"magnitude":…,"phase":…` */
function putNumbers(b: BodyPosition): void {
  putSegment(prefixOf(b.name));
  putRounded(b.az, DECIMALS.az);
  putBytes(K_ALT);
  putRounded(b.alt, DECIMALS.alt);
  putBytes(K_RA);
  putRounded(b.ra, DECIMALS.ra);
  putBytes(K_DEC);
  putRounded(b.dec, DECIMALS.dec);
  putBytes(K_DISTANCE);
  putRounded(b.distance, DECIMALS.distance);
  putSegment(brightOf(b));
}

/**
 * JSON.stringify(bodies), byte for byte, for positions from computeBody/computeAll/the grid (numbers
 * rounded to DECIMALS; strings that need no escaping: body names, IAU abbreviations, ISO times).
 */
export function bodiesJson(bodies: readonly BodyPosition[]): string {
  POS = 0;
  ensure(64 + bodies.length * 512);
  BUF[POS++] = 91; // '['
  for (let i = 0; i < bodies.length; i++) {
    const b = bodies[i]!;
    if (i > 0) BUF[POS++] = 44; // ','
    putNumbers(b);
    putBytes(K_CONSTELLATION);
    putQuoted(b.constellation);
    putBytes(b.aboveHorizon ? K_ABOVE_TRUE_RISE : K_ABOVE_FALSE_RISE);
    putNullable(b.rise);
    putBytes(K_TRANSIT);
    putNullable(b.transit);
    putBytes(K_SET);
    putNullable(b.set);
    BUF[POS++] = 125; // '}'
  }
  BUF[POS++] = 93; // ']'
  return BUF.toString('latin1', 0, POS);
}
