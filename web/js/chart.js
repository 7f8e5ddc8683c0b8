// The sky chart: a polar plot of the sky as seen lying on your back, head to the north.
// Zenith at the centre, horizon on the circle, altitude linear in radius. Looking up with north at
// the top puts east on the LEFT (a mirror of a map), so x = -r·sin(az), y = -r·cos(az).
// Bodies below the horizon sit dimmed in the dark ground band outside the circle, at their azimuth.

import { BODY_NAMES, BODY_STYLE, constellationName } from './bodies.js';
import { formatMagnitude, formatNumber, compassPoint } from './format.js';
import { project as projectAt } from './chart-projection.js';
import { skyLayer } from './stars.js';

/** @param {number} az @param {number} alt */
const project = (az, alt) => projectAt(az, alt, R);

const SVG_NS = 'http://www.w3.org/2000/svg';
/** horizon radius in SVG user units; the viewBox leaves room for the ground band and compass letters */
const R = 160;
const GROUND = 32;

/** @param {string} tag @param {Record<string, string | number>} attrs @param {Element} [parent] */
function el(tag, attrs = {}, parent) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  parent?.appendChild(node);
  return node;
}

export { project };

/** Marker radius from magnitude: brighter is bigger, within bounds that stay legible. @param {string} name @param {number} mag */
function markerRadius(name, mag) {
  if (name === 'sun') return 10;
  if (name === 'moon') return 9;
  return Math.max(2.6, Math.min(6, 5 - 0.5 * mag));
}

/** Twilight band from the Sun's altitude: the chart's sky colour follows it. @param {number} sunAlt */
function skyPhase(sunAlt) {
  if (sunAlt > 0) return 'day';
  if (sunAlt > -6) return 'civil';
  if (sunAlt > -12) return 'nautical';
  if (sunAlt > -18) return 'astronomical';
  return 'night';
}

export class SkyChart {
  /** @param {SVGSVGElement} svg */
  constructor(svg) {
    this.svg = svg;
    const half = R + GROUND + 24;
    svg.setAttribute('viewBox', `${-half} ${-half} ${2 * half} ${2 * half}`);
    this.desc = /** @type {SVGDescElement} */ (svg.querySelector('desc') ?? el('desc', {}, svg));
    this.drawFrame();
    // The fixed sky (stars, figures, names, ecliptic) between the frame and the bodies; loaded after the first draw.
    this.stars = skyLayer(/** @type {SVGGElement} */ (el('g', { class: 'stars' }, svg)), R);
    /** @type {Map<string, { g: SVGGElement, dot: SVGCircleElement, halo: SVGCircleElement, label: SVGTextElement, leader: SVGLineElement, title: SVGTitleElement, lit?: SVGPathElement }>} */
    this.markers = new Map();
    const layer = el('g', { class: 'bodies' }, svg);
    for (const name of BODY_NAMES) {
      const style = BODY_STYLE[name];
      // Each body is a stop on the keyboard path and names itself to a screen reader (aria-label, kept current).
      const g = /** @type {SVGGElement} */ (el('g', { class: 'body', 'data-body': name, style: `--body:${style.color}`, tabindex: 0, role: 'img' }, layer));
      const leader = /** @type {SVGLineElement} */ (el('line', { class: 'leader', x1: 0, y1: 0, x2: 0, y2: 0 }, g));
      const halo = /** @type {SVGCircleElement} */ (el('circle', { class: 'halo', r: 10 }, g));
      const dot = /** @type {SVGCircleElement} */ (el('circle', { class: 'dot', r: 4 }, g));
      // The Moon is drawn as its phase: a dark disc with the lit part turned towards the Sun.
      const lit = name === 'moon' ? /** @type {SVGPathElement} */ (el('path', { class: 'lit' }, g)) : undefined;
      const label = /** @type {SVGTextElement} */ (el('text', { class: 'label', x: 8, y: 4 }, g));
      label.textContent = style.label;
      const title = /** @type {SVGTitleElement} */ (el('title', {}, g));
      g.style.opacity = '0';
      this.markers.set(name, { g, dot, halo, label, leader, title, lit });
    }
  }

  /** @private Sky colours per twilight phase (zenith to horizon), the ground, and the Sun's glow. */
  drawDefs() {
    const defs = el('defs', {}, this.svg);
    /** @type {Record<string, [string, string]>} */
    const skies = {
      night: ['#0b1538', '#101c47'],
      astronomical: ['#0d1a44', '#1a2a5e'],
      nautical: ['#13245a', '#2c3f7a'],
      civil: ['#1c3570', '#5a5a8c'],
      day: ['#1f5fa8', '#4d8fd0'],
    };
    for (const [phase, [zenith, horizon]] of Object.entries(skies)) {
      const g = el('radialGradient', { id: `sky-${phase}` }, defs);
      el('stop', { offset: '0%', 'stop-color': zenith }, g);
      el('stop', { offset: '100%', 'stop-color': horizon }, g);
    }
    const ground = el('radialGradient', { id: 'ground-fill' }, defs);
    el('stop', { offset: `${Math.round((R / (R + GROUND)) * 100)}%`, 'stop-color': '#141a30' }, ground);
    el('stop', { offset: '100%', 'stop-color': '#080b18' }, ground);
    const glow = el('filter', { id: 'glow', x: '-50%', y: '-50%', width: '200%', height: '200%' }, defs);
    el('feGaussianBlur', { stdDeviation: 3 }, glow);
  }

  /** @private The parts that never move: sky disc, ground band, rings, spokes, compass letters. */
  drawFrame() {
    this.drawDefs();
    const frame = el('g', { class: 'frame', 'aria-hidden': 'true' }, this.svg);
    el('circle', { class: 'ground', r: R + GROUND }, frame);
    el('circle', { class: 'sky-disc', r: R }, frame);
    for (let az = 0; az < 360; az += 45) {
      const a = (az * Math.PI) / 180;
      el('line', { class: az % 90 ? 'spoke minor' : 'spoke', x1: 0, y1: 0, x2: -R * Math.sin(a), y2: -R * Math.cos(a) }, frame);
    }
    for (const alt of [30, 60]) {
      const r = (R * (90 - alt)) / 90;
      el('circle', { class: 'ring', r }, frame);
      // Ring labels sit on the north-west diagonal (upper right on the chart), where they rarely meet a spoke label.
      const t = el('text', { class: 'ring-label', x: r * Math.SQRT1_2 + 3, y: -r * Math.SQRT1_2 - 3 }, frame);
      t.textContent = `${alt}°`;
    }
    el('circle', { class: 'horizon', r: R }, frame);
    el('path', { class: 'zenith', d: 'M-5 0H5M0 -5V5' }, frame);
    const letters = /** @type {const} */ ([['N', 0], ['E', 90], ['S', 180], ['W', 270]]);
    const out = R + GROUND + 12;
    for (const [letter, az] of letters) {
      const { x, y } = { x: -out * Math.sin((az * Math.PI) / 180), y: -out * Math.cos((az * Math.PI) / 180) };
      const t = el('text', { class: `compass compass-${letter}`, x, y, 'dominant-baseline': 'central', 'text-anchor': 'middle' }, frame);
      t.textContent = letter;
    }
  }

  /**
   * @param {import('./api.js').BodyPosition[]} bodies
   * @param {{ time: string, lat: number, lon: number }} at the instant and place the positions are for (the stars follow)
   */
  update(bodies, at) {
    const sun = bodies.find((b) => b.name === 'sun');
    if (sun) this.svg.dataset.sky = skyPhase(sun.alt);
    this.stars.update(Date.parse(at.time), at.lat, at.lon);
    // Above-horizon bodies claim label space first: they are the ones someone can go out and see.
    const ordered = [...bodies]
      .sort((a, b) => Number(b.aboveHorizon) - Number(a.aboveHorizon) || a.magnitude - b.magnitude)
      .map((body) => ({ body, ...project(body.az, body.alt), r: markerRadius(body.name, body.magnitude) }));
    /** Every marker is an obstacle for every label. @type {Box[]} */
    const placed = ordered.map(({ x, y, r }) => ({ x: x - r, y: y - r, w: 2 * r, h: 2 * r }));
    for (const { body, x, y, r } of ordered) {
      const m = this.markers.get(body.name);
      if (!m) continue;
      m.g.style.transform = `translate(${x.toFixed(2)}px, ${y.toFixed(2)}px)`;
      m.g.style.opacity = '';
      m.g.classList.toggle('below', !body.aboveHorizon);
      m.dot.setAttribute('r', r.toFixed(2));
      m.halo.setAttribute('r', (r * 2.2).toFixed(2));
      const lit = body.name === 'moon' ? `, ${Math.round(body.phase * 100)}% lit` : '';
      const words = `${BODY_STYLE[body.name].label}: altitude ${formatNumber(body.alt, 1)}°, azimuth ${formatNumber(body.az, 1)}° (${compassPoint(body.az)}), magnitude ${formatMagnitude(body.magnitude)}, in ${constellationName(body.constellation)}${lit}${body.aboveHorizon ? '' : ', below the horizon'}`;
      if (m.title.textContent !== words) {
        m.title.textContent = words;
        m.g.setAttribute('aria-label', words);
      }
      if (m.lit) {
        const sunAt = ordered.find((o) => o.body.name === 'sun');
        const towardsSun = sunAt ? (Math.atan2(sunAt.y - y, sunAt.x - x) * 180) / Math.PI : 0;
        m.lit.setAttribute('d', phasePath(r, body.phase));
        m.lit.setAttribute('transform', `rotate(${towardsSun.toFixed(1)})`);
      }
      const spot = placeLabel(x, y, r, labelWidth(m.label), placed);
      m.label.setAttribute('x', spot.dx.toFixed(1));
      m.label.setAttribute('y', spot.dy.toFixed(1));
      m.label.setAttribute('text-anchor', spot.anchor);
      // A label pushed away from its marker keeps a thin line back to it.
      const far = Math.hypot(spot.cx, spot.cy) > r + 22;
      m.leader.setAttribute('x2', far ? spot.cx.toFixed(1) : '0');
      m.leader.setAttribute('y2', far ? spot.cy.toFixed(1) : '0');
    }
    const up = bodies.filter((b) => b.aboveHorizon);
    const text = up.length
      ? `Above the horizon: ${up.map((b) => `${BODY_STYLE[b.name].label} at ${formatNumber(b.alt, 0)}° altitude, ${compassPoint(b.az)}`).join('; ')}.`
      : 'None of the ten bodies is above the horizon.';
    if (this.desc.textContent !== text) this.desc.textContent = text;
  }
}

/**
 * The lit part of a disc of radius r with illuminated fraction k, the Sun towards +x: the bright limb
 * is a half circle on the +x side, closed by the terminator, a half ellipse of semi-axis r·|1−2k|
 * that bulges towards the Sun for a crescent and away from it past half.
 * @param {number} r @param {number} k
 */
export function phasePath(r, k) {
  const f = Math.min(1, Math.max(0, k));
  const rx = (r * Math.abs(1 - 2 * f)).toFixed(2);
  const R = r.toFixed(2);
  return `M0 -${R}A${R} ${R} 0 0 1 0 ${R}A${rx} ${R} 0 0 ${f < 0.5 ? 0 : 1} 0 -${R}Z`;
}

/** @typedef {{ x: number, y: number, w: number, h: number }} Box */

const LINE_H = 16;
const CHAR_W = 7.4;
/** the drawing's bounds: labels stay inside them */
const EDGE = R + GROUND + 24;

/** The label's rendered width (its font differs below the horizon), estimated while the chart is not laid out. @param {SVGTextElement} label */
function labelWidth(label) {
  let w = 0;
  try {
    w = label.getComputedTextLength();
  } catch {
    // not laid out yet (a hidden chart)
  }
  return w > 0 ? w + 2 : (label.textContent?.length ?? 4) * CHAR_W;
}

/**
 * Places a label where it overlaps no marker and no label placed before it: beside the marker first, then around it
 * at growing distances (8 directions a ring, rings further out), staying inside the drawing. It always finds a
 * place (the last rings reach past any cluster of ten markers); the caller draws a leader line when it is far.
 * @param {number} x @param {number} y @param {number} r @param {number} w label width
 * @param {Box[]} placed
 * @returns {{ dx: number, dy: number, anchor: 'start' | 'end' | 'middle', cx: number, cy: number }}
 *   dx/dy: the text's anchor point relative to the marker; cx/cy: the label box's centre (for the leader line)
 */
function placeLabel(x, y, r, w, placed) {
  const h = LINE_H;
  /** The box for a label whose centre is (cx, cy) relative to the marker. @param {number} cx @param {number} cy */
  const box = (cx, cy) => ({ x: x + cx - w / 2, y: y + cy - h / 2, w, h });
  const fits = (/** @type {Box} */ b) =>
    b.x >= -EDGE && b.x + b.w <= EDGE && b.y >= -EDGE && b.y + b.h <= EDGE &&
    !placed.some((o) => b.x < o.x + o.w && o.x < b.x + b.w && b.y < o.y + o.h && o.y < b.y + b.h);
  const gap = r + 4;
  // Right, left, above, below the marker, then the diagonals; near the right edge, left first.
  const sides = [
    [gap + w / 2, 0], [-(gap + w / 2), 0], [0, -(gap + h / 2)], [0, gap + h / 2],
    [gap + w / 2, -(h / 2 + 2)], [gap + w / 2, h / 2 + 2], [-(gap + w / 2), -(h / 2 + 2)], [-(gap + w / 2), h / 2 + 2],
  ];
  if (x > R * 0.45) [sides[0], sides[1]] = [sides[1], sides[0]];
  /** @type {[number, number][]} */
  const candidates = sides.map(([cx, cy]) => [cx ?? 0, cy ?? 0]);
  for (let ring = 1; ring <= 14; ring++) {
    const d = gap + ring * 11;
    for (let k = 0; k < 16; k++) {
      const a = (k / 16) * 2 * Math.PI;
      candidates.push([Math.cos(a) * (d + w / 2), Math.sin(a) * (d + h / 2)]);
    }
  }
  const found = candidates.find(([cx, cy]) => fits(box(cx, cy))) ?? candidates[0] ?? [gap + w / 2, 0];
  const [cx, cy] = found;
  placed.push(box(cx, cy));
  // Text is drawn from its baseline: anchored in the middle, the baseline 5 units below the box's centre.
  return { dx: cx, dy: cy + 5, anchor: 'middle', cx, cy };
}
