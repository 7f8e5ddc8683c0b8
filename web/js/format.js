// Pure formatting and parsing for the page: no DOM, no network, so the browser tests can call it directly.

import { ELEVATION_RANGE, LAT_RANGE, LON_RANGE } from './api-constants.js';

const MINUS = '\u2212';

/** @param {number} n */
const sign = (n) => (n < 0 || Object.is(n, -0) ? MINUS : '+');

/** @param {number} n @param {number} width */
const pad = (n, width = 2) => String(n).padStart(width, '0');

/**
 * Right ascension in hours → `05h 34m 31.9s`.
 * Rounding is done on the smallest unit first so 59.96 s never prints as `60.0s`.
 * @param {number} hours
 */
export function formatRA(hours) {
  const tenths = Math.round((((hours % 24) + 24) % 24) * 36000) % (24 * 36000);
  const h = Math.floor(tenths / 36000);
  const m = Math.floor((tenths % 36000) / 600);
  const s = (tenths % 600) / 10;
  return `${pad(h)}h ${pad(m)}m ${s.toFixed(1).padStart(4, '0')}s`;
}

/**
 * Declination in degrees → `+22° 00′ 52″` (whole arcseconds).
 * @param {number} degrees
 */
export function formatDec(degrees) {
  const total = Math.round(Math.abs(degrees) * 3600);
  const d = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${total === 0 ? '+' : sign(degrees)}${pad(d)}° ${pad(m)}′ ${pad(s)}″`;
}

/**
 * Degrees with a fixed number of decimals and a real minus sign.
 * @param {number} value @param {number} decimals
 */
export function formatNumber(value, decimals = 2) {
  const text = Math.abs(value).toFixed(decimals);
  // `-0.00` would be a lie about the sign: only values that stay non-zero after rounding get one.
  return Number(text) === 0 ? text : `${value < 0 ? MINUS : ''}${text}`;
}

/** @param {number} value */
export const formatMagnitude = (value) => (value < 0 ? MINUS : value > 0 ? '+' : '') + Math.abs(value).toFixed(1);

const COMPASS = ['N', 'NNE', 'NE', 'ENE', 'E', 'ESE', 'SE', 'SSE', 'S', 'SSW', 'SW', 'WSW', 'W', 'WNW', 'NW', 'NNW'];

/** Azimuth in degrees → one of the 16 compass points. @param {number} az */
export const compassPoint = (az) => COMPASS[Math.round((((az % 360) + 360) % 360) / 22.5) % 16];

/** @param {number} km */
export function formatDistanceKm(km) {
  if (km < 1) return `${Math.round(km * 1000)} m`;
  if (km < 10) return `${km.toFixed(1)} km`;
  return `${Math.round(km).toLocaleString('en-US')} km`;
}

/**
 * Latitude/longitude as `51.5072° N, 0.1276° W`.
 * @param {number} lat @param {number} lon
 */
export function formatLatLon(lat, lon) {
  const part = (/** @type {number} */ v, /** @type {string} */ pos, /** @type {string} */ neg) =>
    `${Math.abs(v).toFixed(4)}° ${v < 0 ? neg : pos}`;
  return `${part(lat, 'N', 'S')}, ${part(lon, 'E', 'W')}`;
}

/** @type {Map<string, Intl.DateTimeFormat>} */
const formatters = new Map();

/**
 * One cached formatter per (time zone, style): building an Intl.DateTimeFormat is the slow part.
 * @param {string} timeZone @param {'time' | 'seconds' | 'day'} style
 */
function formatter(timeZone, style) {
  const key = `${timeZone}|${style}`;
  let f = formatters.get(key);
  if (!f) {
    /** @type {Intl.DateTimeFormatOptions} */
    const options = { timeZone, hourCycle: 'h23' };
    if (style === 'day') Object.assign(options, { year: 'numeric', month: '2-digit', day: '2-digit' });
    else Object.assign(options, { hour: '2-digit', minute: '2-digit' }, style === 'seconds' ? { second: '2-digit' } : {});
    try {
      f = new Intl.DateTimeFormat('en-GB', options);
    } catch {
      // An unknown zone would throw on every render; UTC is shown instead and labelled as such by the caller.
      f = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: 'UTC' });
    }
    formatters.set(key, f);
  }
  return f;
}

/** @type {Map<string, Intl.DateTimeFormat>} */
const weekdays = new Map();

/** @param {string} timeZone */
function weekday(timeZone) {
  let f = weekdays.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short' });
    } catch {
      f = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short' });
    }
    weekdays.set(timeZone, f);
  }
  return f;
}

/** Whether `timeZone` is an IANA zone this browser knows. @param {string} timeZone */
export function isKnownTimeZone(timeZone) {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * A rise/set instant in the location's own time: `06:12`, or `Tue 06:12` when it falls on another
 * local day than `now` (events are up to 24 h ahead, so "which day" matters half the time).
 * @param {string | null} iso @param {string} timeZone @param {Date} now
 */
export function formatEventTime(iso, timeZone, now) {
  if (!iso) return '—';
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return '—';
  const time = formatter(timeZone, 'time').format(when);
  const sameDay = formatter(timeZone, 'day').format(when) === formatter(timeZone, 'day').format(now);
  return sameDay ? time : `${weekday(timeZone).format(when)} ${time}`;
}

/** Clock time with seconds in `timeZone`. @param {Date} date @param {string} timeZone */
export const formatClock = (date, timeZone) => formatter(timeZone, 'seconds').format(date);

/** @typedef {{ ok: true, value: number } | { ok: false, message: string }} Parsed */

/**
 * Parses a typed coordinate. Accepts `51.5`, `-0.12`, `51,5` (decimal comma), `0.12 W` / `33.9S`
 * (hemisphere letter), and a Unicode minus; anything else gets a message that names the field.
 * @param {string} raw
 * @param {'lat' | 'lon'} axis
 * @returns {Parsed}
 */
export function parseCoordinate(raw, axis) {
  const label = axis === 'lat' ? 'Latitude' : 'Longitude';
  const limit = (axis === 'lat' ? LAT_RANGE : LON_RANGE).max;
  const text = raw.trim().replace(MINUS, '-').replace(',', '.').replace(/°/g, '');
  if (text === '') return { ok: false, message: `${label} is required.` };
  const match = /^([+-]?\d+(?:\.\d+)?|[+-]?\.\d+)\s*([NSEWnsew])?$/.exec(text);
  if (!match) return { ok: false, message: `${label} must be a number of degrees, like ${axis === 'lat' ? '51.48' : '-0.12'}.` };
  let value = Number(match[1]);
  const hemisphere = match[2]?.toUpperCase();
  if (hemisphere) {
    const allowed = axis === 'lat' ? 'NS' : 'EW';
    if (!allowed.includes(hemisphere)) return { ok: false, message: `${label} takes ${allowed[0]} or ${allowed[1]}, not ${hemisphere}.` };
    if (value < 0) return { ok: false, message: `${label}: use either a minus sign or ${allowed[1]}, not both.` };
    if (hemisphere === 'S' || hemisphere === 'W') value = -value;
  }
  if (Math.abs(value) > limit) {
    return { ok: false, message: `${label} must be between −${limit} and ${limit}${axis === 'lat' ? ' (south to north)' : ' (west to east)'}.` };
  }
  return { ok: true, value };
}

/** The elevation range the page accepts, in metres: the API's own (api-constants.js). */
export { ELEVATION_RANGE };

/**
 * Elevation in metres; empty means sea level (the placeholder says so).
 * @param {string} raw
 * @returns {Parsed}
 */
export function parseElevation(raw) {
  const text = raw.trim().replace(MINUS, '-').replace(',', '.').replace(/\s*m$/i, '');
  if (text === '') return { ok: true, value: 0 };
  if (!/^[+-]?(\d+(\.\d+)?|\.\d+)$/.test(text)) return { ok: false, message: 'Elevation must be a number of metres, like 350.' };
  const value = Number(text);
  const { min: lo, max: hi } = ELEVATION_RANGE;
  if (value < lo || value > hi) return { ok: false, message: `Elevation must be between ${lo} and ${hi} metres.` };
  return { ok: true, value };
}

/**
 * Great-circle distance in km (haversine on a 6371 km sphere), used only to say how far the typed
 * point is from a city the user picked; the server answers "nearest" itself.
 * @param {number} lat1 @param {number} lon1 @param {number} lat2 @param {number} lon2
 */
export function distanceKm(lat1, lon1, lat2, lon2) {
  const rad = Math.PI / 180;
  const a =
    Math.sin(((lat2 - lat1) * rad) / 2) ** 2 +
    Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(a)));
}
