// A happening (GET /events, `event: sky-event`) in words, and a countdown to it. Pure: no DOM.

import { BODY_STYLE } from './bodies.js';
import { compassPoint } from './format.js';

/** @typedef {import('./api.js').Happening} Happening */

/** @param {string | undefined} name */
const label = (name) => (name ? (BODY_STYLE[/** @type {keyof typeof BODY_STYLE} */ (name)]?.label ?? name) : '');

const PHASES = { new: 'New Moon', first_quarter: 'First quarter Moon', full: 'Full Moon', last_quarter: 'Last quarter Moon' };

/**
 * "Jupiter rises", "Full Moon", "Civil dusk": what happens, as a headline.
 * @param {Happening} h
 */
export function happeningTitle(h) {
  const body = label(h.body);
  switch (h.kind) {
    case 'rise':
      return `${body} rises`;
    case 'set':
      return `${body} sets`;
    case 'transit':
      return `${body} is highest`;
    case 'dusk':
      return `${cap(h.twilight ?? '')} dusk`;
    case 'dawn':
      return `${cap(h.twilight ?? '')} dawn`;
    case 'phase':
      return PHASES[h.phase ?? 'full'] ?? 'Moon phase';
    case 'eclipse':
      return `${cap(h.type ?? '')} ${h.eclipse ?? ''} eclipse`.trim();
    case 'opposition':
      return `${body} at opposition`;
    case 'conjunction':
      return h.type ? `${body} at ${h.type} conjunction` : `${body} in conjunction with the Sun`;
    case 'elongation':
      return `${body} at greatest ${h.visibility ?? ''} elongation`.replace('  ', ' ');
    case 'approach':
      return `${(h.bodies ?? []).map(label).join(' and ')} ${h.separation !== undefined ? `${h.separation.toFixed(1)}° apart` : 'close together'}`;
    default:
      return h.kind;
  }
}

/** Where to look, when it says anything: "low in the ENE", "45° up in the S". @param {Happening} h */
export function happeningWhere(h) {
  if (h.kind === 'dusk' || h.kind === 'dawn' || (h.kind === 'phase' && h.alt < 0)) return '';
  if (h.kind === 'eclipse' && h.visible === false) return 'not visible from here';
  if (h.alt < -1) return 'below the horizon';
  return h.alt < 10 ? `low in the ${compassPoint(h.az)}` : `${Math.round(h.alt)}° up in the ${compassPoint(h.az)}`;
}

/** @param {string} s */
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * "in 12 min", "in 1 h 05 min", "in 40 s", "now", "3 min ago".
 * @param {number} ms the happening's instant @param {number} now
 */
export function countdown(ms, now) {
  const s = Math.round((ms - now) / 1000);
  if (Math.abs(s) < 5) return 'now';
  const a = Math.abs(s);
  const text = a < 60 ? `${a} s` : a < 3600 ? `${Math.round(a / 60)} min` : `${Math.floor(a / 3600)} h ${String(Math.floor((a % 3600) / 60)).padStart(2, '0')} min`;
  return s > 0 ? `in ${text}` : `${text} ago`;
}

/** Groups a reader can opt in to notifications for, and the kinds in each. */
export const NOTIFY_GROUPS = /** @type {const} */ ({
  'rise-set': { label: 'Rises and sets', kinds: ['rise', 'set'] },
  twilight: { label: 'Dusk and dawn', kinds: ['dusk', 'dawn'] },
  moon: { label: 'Moon phases', kinds: ['phase'] },
  rare: { label: 'Eclipses, oppositions, close approaches', kinds: ['eclipse', 'opposition', 'conjunction', 'elongation', 'approach'] },
});
