import { ELEVATION_RANGE, LAT_RANGE, LON_RANGE, type Range, TIME_RANGE, TIME_RANGE_TEXT } from '../sky/ranges.ts';
import type { Observer, Refraction } from '../sky/types.ts';

// Parsing and validation of what a caller says about where and when they look at the sky: HTTP input,
// checked against the sky's domain (src/sky/ranges.ts). Pure: inputs are raw strings (query, form) or JSON values; a bad one throws InvalidInputError whose
// message names the parameter and quotes the value, so the HTTP layer can pass it through unchanged.

export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
  constructor(
    /** the parameter at fault, e.g. `lat` */
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/** The Royal Observatory, Greenwich: the observer when a request names no place. */
export const GREENWICH: Readonly<Observer> = Object.freeze({ lat: 51.4769, lon: -0.0005, elevation: 0 });

export const REFRACTIONS: readonly Refraction[] = ['normal', 'none'];

// Plain decimal notation only: Number() alone would also take "", " 1", "0x1f", "Infinity" and "1_0"-free oddities.
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

// ISO-8601 / RFC 3339 instant: calendar date, time to at least minutes, and an explicit offset (an instant, not a wall time).
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
// "…T12:00:00 02:00": a '+' written raw in a query string arrives as a space.
const PLUS_AS_SPACE = /\d \d{2}:?\d{2}$/;

const MAX_QUOTED = 64;

/** The offending value as it should appear in a message: JSON-quoted, cut short if long. */
export function quote(raw: unknown): string {
  if (raw === undefined) return 'nothing';
  let text: string;
  try {
    // A non-finite number (a JSON 1e400 parses as Infinity) would stringify as null: say what it is.
    if (typeof raw === 'number' && !Number.isFinite(raw)) text = `${raw} (out of a number's range)`;
    else text = typeof raw === 'string' ? JSON.stringify(raw) : (JSON.stringify(raw) ?? String(raw));
  } catch {
    text = String(raw);
  }
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
}

function parseNumber(param: string, raw: unknown, range: Range, what: string): number {
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string') {
    if (raw === '') throw new InvalidInputError(param, `${param} must not be empty`);
    n = DECIMAL.test(raw) ? Number(raw) : NaN;
  } else n = NaN;
  if (!(n >= range.min && n <= range.max)) {
    throw new InvalidInputError(param, `${param} must be ${what} between ${range.min} and ${range.max}, got ${quote(raw)}`);
  }
  // -0 would serialise as 0 anyway; keep numbers canonical.
  return n === 0 ? 0 : n;
}

/** Degrees north, -90..90. */
export const parseLat = (raw: unknown, param = 'lat'): number => parseNumber(param, raw, LAT_RANGE, 'a number');
/** Degrees east, -180..180. */
export const parseLon = (raw: unknown, param = 'lon'): number => parseNumber(param, raw, LON_RANGE, 'a number');
/** Metres above sea level. */
export const parseElevation = (raw: unknown, param = 'elevation'): number =>
  parseNumber(param, raw, ELEVATION_RANGE, 'a number of metres');

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** An ISO-8601 instant with an explicit offset, within TIME_RANGE. Sub-millisecond digits are truncated. */
export function parseTime(raw: unknown, param = 'time'): Date {
  if (raw === '') throw new InvalidInputError(param, `${param} must not be empty`);
  const m = typeof raw === 'string' ? ISO_INSTANT.exec(raw) : null;
  const ms = m ? instantOf(m) : NaN;
  if (Number.isNaN(ms)) {
    const hint = typeof raw === 'string' && PLUS_AS_SPACE.test(raw) ? ' (a "+" in a URL query means a space: write it as %2B)' : '';
    throw new InvalidInputError(
      param,
      `${param} must be an ISO-8601 instant with a UTC offset, e.g. "2026-03-20T12:00:00Z", got ${quote(raw)}${hint}`,
    );
  }
  if (ms < TIME_RANGE.min || ms >= TIME_RANGE.max) {
    throw new InvalidInputError(param, `${param} must be from ${TIME_RANGE_TEXT}, got ${quote(raw)}`);
  }
  return new Date(ms);
}

/** Epoch ms of a matched ISO_INSTANT, or NaN when a field is out of its calendar range. */
function instantOf(m: RegExpExecArray): number {
  const year = +m[1]!;
  const month = +m[2]!;
  const day = +m[3]!;
  const hour = +m[4]!;
  const minute = +m[5]!;
  const second = m[6] === undefined ? 0 : +m[6];
  const milli = m[7] === undefined ? 0 : +m[7].slice(0, 3).padEnd(3, '0');
  const offH = m[10] === undefined ? 0 : +m[10];
  const offM = m[11] === undefined ? 0 : +m[11];
  if (month < 1 || month > 12 || day < 1) return NaN;
  if (day > (month === 2 && !isLeap(year) ? 28 : DAYS_IN_MONTH[month - 1]!)) return NaN;
  if (hour > 23 || minute > 59 || second > 59 || offH > 23 || offM > 59) return NaN;
  // Years far outside the range are rejected by the range check; clamp here so Date.UTC's 0..99 → 19xx rule never applies.
  if (year < 1000) return -Infinity;
  const offset = (m[9] === '-' ? -1 : 1) * (offH * 60 + offM) * 60_000;
  return Date.UTC(year, month - 1, day, hour, minute, second, milli) - offset;
}

/** `normal` (what an eye sees) or `none` (airless geometry); case-insensitive. */
export function parseRefraction(raw: unknown, param = 'refraction'): Refraction {
  if (raw === '') throw new InvalidInputError(param, `${param} must not be empty`);
  const v = typeof raw === 'string' ? raw.toLowerCase() : raw;
  if (v === 'normal' || v === 'none') return v;
  throw new InvalidInputError(param, `${param} must be "normal" or "none", got ${quote(raw)}`);
}

export interface ObserverParts {
  lat?: number | undefined;
  lon?: number | undefined;
  elevation?: number | undefined;
}

/**
 * Assembles an observer from already-parsed parts. lat and lon go together; elevation defaults to 0 m.
 * With neither lat nor lon the fallback is used (Greenwich for /planets); without a fallback they are required.
 */
export function resolveObserver(parts: ObserverParts, fallback?: Readonly<Observer>): Observer {
  const { lat, lon, elevation } = parts;
  if (lat === undefined && lon === undefined) {
    if (!fallback) throw new InvalidInputError('lat', 'lat and lon are required');
    if (elevation !== undefined) {
      throw new InvalidInputError('elevation', 'elevation was given without lat and lon; give all three, or none for Greenwich');
    }
    return { lat: fallback.lat, lon: fallback.lon, elevation: fallback.elevation };
  }
  if (lat === undefined) throw new InvalidInputError('lat', 'lat is missing: lat and lon must be given together');
  if (lon === undefined) throw new InvalidInputError('lon', 'lon is missing: lat and lon must be given together');
  return { lat, lon, elevation: elevation ?? 0 };
}

/** Raw values (query strings or JSON) → observer; see resolveObserver for the rules. */
export function parseObserver(
  raw: { lat?: unknown; lon?: unknown; elevation?: unknown },
  fallback?: Readonly<Observer>,
): Observer {
  return resolveObserver(
    {
      lat: raw.lat === undefined ? undefined : parseLat(raw.lat),
      lon: raw.lon === undefined ? undefined : parseLon(raw.lon),
      elevation: raw.elevation === undefined ? undefined : parseElevation(raw.elevation),
    },
    fallback,
  );
}
