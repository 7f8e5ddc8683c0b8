// The fixed sky behind the bodies: stars to magnitude 5, constellation figures and names, and the ecliptic, from
// data/sky.json (built from d3-celestial's catalogue by scripts/sky-data.ts). Positions are J2000; turned into the
// observer's altitude and azimuth with the local sidereal time. Stars are drawn as a few paths (one per magnitude
// step), not a node each, and redrawn only when the sky has turned visibly (or the place changed).

import { project } from './chart-projection.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const RAD = Math.PI / 180;
/** The sky turns 0.25° a minute; half a minute is under a pixel at the chart's scale. */
const REDRAW_MS = 30_000;
/** Obliquity of the ecliptic (J2000), degrees. */
const OBLIQUITY = 23.4393;
/** Magnitude steps and the dot size of each (SVG units). */
const STEPS = [[1, 3.4], [2, 2.7], [3, 2.1], [4, 1.6], [5.05, 1.15]];

/**
 * @typedef {{ stars: number[], lines: Record<string, number[][]>, names: [string, string, number, number][],
 *   bright: [string, number, number, number][] }} SkyData  angles in tenths of a degree, magnitudes in tenths
 */

/** Greenwich mean sidereal time in degrees (IAU 1982; a second of accuracy, plenty for a chart). @param {number} ms */
export function gmstDegrees(ms) {
  const d = ms / 86_400_000 + 2440587.5 - 2451545.0;
  const t = d / 36525;
  return (((280.46061837 + 360.98564736629 * d + 0.000387933 * t * t) % 360) + 360) % 360;
}

/**
 * Altitude and azimuth (degrees; azimuth from north through east) of a star at right ascension `ra` and declination
 * `dec` (degrees) for latitude `lat` and local sidereal time `lst` (degrees). Geometric: no refraction.
 * @param {number} ra @param {number} dec @param {number} lat @param {number} lst
 */
export function horizontal(ra, dec, lat, lst) {
  const h = (lst - ra) * RAD;
  const d = dec * RAD;
  const p = lat * RAD;
  const alt = Math.asin(Math.sin(p) * Math.sin(d) + Math.cos(p) * Math.cos(d) * Math.cos(h));
  const az = Math.atan2(-Math.cos(d) * Math.sin(h), Math.sin(d) * Math.cos(p) - Math.cos(d) * Math.cos(h) * Math.sin(p));
  return { alt: alt / RAD, az: ((az / RAD) + 360) % 360 };
}

/** @param {string} tag @param {Record<string, string | number>} attrs @param {Element} parent */
function el(tag, attrs, parent) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  parent.appendChild(node);
  return node;
}

/**
 * @typedef {(ra: number, dec: number) => { alt: number, az: number }} ToHorizon a catalogue position (tenths of hours
 *   and degrees in the star data) → the observer's altitude and azimuth
 * @typedef {(az: number, alt: number) => { x: number, y: number }} ToChart altitude and azimuth → the chart's x, y
 */

/** The stars above the horizon as one path per magnitude step. @param {SkyData} data @param {ToHorizon} at @param {ToChart} xy */
function starPaths(data, at, xy) {
  const paths = STEPS.map(() => /** @type {string[]} */ ([]));
  const s = data.stars;
  for (let i = 0; i < s.length; i += 3) {
    const { alt, az } = at(s[i] ?? 0, s[i + 1] ?? 0);
    if (alt < 0) continue;
    const { x, y } = xy(az, alt);
    const mag = (s[i + 2] ?? 0) / 10;
    const step = STEPS.findIndex(([limit]) => mag <= (limit ?? 9));
    paths[step < 0 ? STEPS.length - 1 : step]?.push(`M${x.toFixed(1)} ${y.toFixed(1)}h0`);
  }
  return paths.map((p) => p.join(''));
}

/** The constellation figures' segments with both ends above the horizon. @param {SkyData} data @param {ToHorizon} at @param {ToChart} xy */
function figuresPath(data, at, xy) {
  const lines = [];
  for (const polylines of Object.values(data.lines)) {
    for (const line of polylines) {
      let prev = null;
      for (let i = 0; i < line.length; i += 2) {
        const { alt, az } = at(line[i] ?? 0, line[i + 1] ?? 0);
        const point = alt >= 0 ? xy(az, alt) : null;
        if (point && prev) lines.push(`M${prev.x.toFixed(1)} ${prev.y.toFixed(1)}L${point.x.toFixed(1)} ${point.y.toFixed(1)}`);
        prev = point;
      }
    }
  }
  return lines.join('');
}

/** Constellation names 8° up or more. @param {SkyData} data @param {ToHorizon} at @param {ToChart} xy */
function constellationNames(data, at, xy) {
  const labels = [];
  for (const [abbr, name, ra, dec] of data.names) {
    const { alt, az } = at(ra, dec);
    if (alt < 8) continue;
    const { x, y } = xy(az, alt);
    const t = document.createElementNS(SVG_NS, 'text');
    t.setAttribute('x', x.toFixed(1));
    t.setAttribute('y', y.toFixed(1));
    t.setAttribute('text-anchor', 'middle');
    t.dataset.con = abbr;
    t.textContent = name;
    labels.push(t);
  }
  return labels;
}

/** The ecliptic above the horizon. @param {number} lat @param {number} lst local sidereal time, degrees @param {ToChart} xy */
function eclipticPath(lat, lst, xy) {
  const ecl = [];
  let prev = null;
  const e = OBLIQUITY * RAD;
  for (let lambda = 0; lambda <= 360; lambda += 4) {
    const l = lambda * RAD;
    const ra = Math.atan2(Math.sin(l) * Math.cos(e), Math.cos(l)) / RAD;
    const dec = Math.asin(Math.sin(e) * Math.sin(l)) / RAD;
    const { alt, az } = horizontal(ra, dec, lat, lst);
    const point = alt >= 0 ? xy(az, alt) : null;
    if (point) ecl.push(`${prev ? 'L' : 'M'}${point.x.toFixed(1)} ${point.y.toFixed(1)}`);
    prev = point;
  }
  return ecl.join('');
}

/** The named bright stars above the horizon, as keyboard stops with their names. @param {SkyData} data @param {ToHorizon} at @param {ToChart} xy */
function brightStarStops(data, at, xy) {
  const stops = [];
  for (const [name, ra, dec, mag] of data.bright) {
    const { alt, az } = at(ra, dec);
    if (alt < 0) continue;
    const { x, y } = xy(az, alt);
    const c = document.createElementNS(SVG_NS, 'circle');
    c.setAttribute('cx', x.toFixed(1));
    c.setAttribute('cy', y.toFixed(1));
    c.setAttribute('r', '3');
    c.setAttribute('class', 'bright-star');
    c.setAttribute('tabindex', '0');
    c.setAttribute('role', 'img');
    c.dataset.star = name;
    const words = `${name}, star of magnitude ${(mag / 10).toFixed(1)}: altitude ${alt.toFixed(0)}°, azimuth ${az.toFixed(0)}°`;
    c.setAttribute('aria-label', words);
    const title = document.createElementNS(SVG_NS, 'title');
    title.textContent = words;
    c.append(title);
    stops.push(c);
  }
  return stops;
}

/**
 * @param {SVGGElement} g the layer to draw into
 * @param {number} radius the horizon's radius
 */
export function skyLayer(g, radius) {
  g.setAttribute('aria-hidden', 'true');
  const ecliptic = el('path', { class: 'ecliptic' }, g);
  const figures = el('path', { class: 'figures' }, g);
  const dots = STEPS.map(([, size], i) => el('path', { class: `star m${i}`, 'stroke-width': size ?? 1 }, g));
  const names = el('g', { class: 'con-names' }, g);
  // Named bright stars are stops on the keyboard path too, with their name for screen readers.
  const bright = el('g', { class: 'bright-stars' }, /** @type {Element} */ (g.parentNode ?? g));
  /** @type {SkyData | null} */
  let data = null;
  /** @type {Promise<void> | null} */
  let loading = null;
  let drawn = { ms: Number.NaN, lat: Number.NaN, lon: Number.NaN };
  let wanted = drawn;

  const draw = () => {
    if (!data) return;
    const { ms, lat, lon } = wanted;
    drawn = wanted;
    const lst = gmstDegrees(ms) + lon;
    /** @type {ToHorizon} */
    const at = (ra, dec) => horizontal(ra / 10, dec / 10, lat, lst);
    /** @type {ToChart} */
    const xy = (az, alt) => project(az, alt, radius);
    const paths = starPaths(data, at, xy);
    dots.forEach((p, i) => p.setAttribute('d', paths[i] ?? ''));
    figures.setAttribute('d', figuresPath(data, at, xy));
    names.replaceChildren(...constellationNames(data, at, xy));
    ecliptic.setAttribute('d', eclipticPath(lat, lst, xy));
    bright.replaceChildren(...brightStarStops(data, at, xy));
    g.dataset.drawnAt = new Date(ms).toISOString();
  };

  return {
    /** @param {number} ms @param {number} lat @param {number} lon */
    update(ms, lat, lon) {
      wanted = { ms, lat, lon };
      if (Math.abs(ms - drawn.ms) < REDRAW_MS && lat === drawn.lat && lon === drawn.lon) return;
      if (data) return draw();
      // Loaded after the first bodies are drawn: the live data comes first, the backdrop a moment later.
      if (loading) return;
      loading = fetch('data/sky.json')
        .then((res) => (res.ok ? res.json() : null))
        .then((json) => {
          data = json;
          draw();
        })
        .catch(() => {
          loading = null; // offline or failed: tried again on the next update
        });
    },
  };
}
