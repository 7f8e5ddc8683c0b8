// Tonight: GET /tonight for the observer's own coordinates, the night of the instant shown (now, or a travelled-to
// one), drawn in the observer's local time: the Sun's times, and per body whether, when, with what and where to look.

import { fetchTonight, isAbort } from './api.js';
import { BODY_STYLE, constellationName } from './bodies.js';
import { compassPoint, formatEventTime } from './format.js';
import { usableZone } from './names.js';
import { zoneOf } from './store.js';

/**
 * @typedef {import('./store.js').Store} Store
 * @typedef {import('./store.js').State} State
 * @typedef {import('./api.js').TonightResponse} TonightResponse
 */

const INSTRUMENT = { naked_eye: 'naked eye', binoculars: 'binoculars', telescope: 'telescope' };
const HOUR = 3_600_000;

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * The night an instant belongs to, as /tonight names it: the date of the local solar noon before it.
 * @param {number} ms @param {number} lon
 */
export const nightOf = (ms, lon) => new Date(ms + (lon / 15) * HOUR - 12 * HOUR).toISOString().slice(0, 10);

export class TonightPanel {
  /** @param {Store} store */
  constructor(store) {
    this.store = store;
    this.sun = $('tonight-sun');
    this.list = $('tonight-bodies');
    this.heading = $('tonight-heading');
    /** @type {AbortController | null} */
    this.request = null;
    this.key = '';
    store.subscribe((s, changed) => {
      // After the first sky is drawn: this request costs the server more than the stream's first snapshot does.
      if (changed.has('observer') || changed.has('travel') || changed.has('snapshot') || changed.has('spot') || changed.has('exact')) this.load(s);
      if (changed.has('tonight') || changed.has('timeZone')) this.render(s);
    });
    // The night turns over at local noon: look again every quarter hour (a no-op while the date is the same).
    setInterval(() => this.load(this.store.state), 15 * 60_000);
    this.load(store.state);
  }

  /** @private @param {State} s */
  load(s) {
    const o = s.observer;
    if (!o || (!s.snapshot && !s.spot && !s.exact && !s.travelSky)) return;
    const date = nightOf(s.travel ?? Date.now(), o.lon);
    const key = `${o.lat},${o.lon},${o.elevation},${date}`;
    if (key === this.key) return;
    this.key = key;
    this.request?.abort();
    const controller = new AbortController();
    this.request = controller;
    fetchTonight(o, date, controller.signal)
      .then((tonight) => {
        if (this.request === controller) this.store.set({ tonight });
      })
      .catch((err) => {
        if (isAbort(err) || this.request !== controller) return;
        this.key = '';
        this.list.replaceChildren(Object.assign(document.createElement('li'), { className: 'empty', textContent: 'The night’s plan could not be loaded; it is tried again shortly.' }));
      });
  }

  /** @private @param {State} s */
  render(s) {
    const t = s.tonight;
    if (!t) return;
    const zone = usableZone(zoneOf(s));
    const ref = new Date(t.from);
    const at = (/** @type {string | null} */ iso) => formatEventTime(iso, zone, ref);
    this.heading.textContent = s.travel === null ? 'Tonight' : `The night of ${t.date}`;
    const parts = [];
    if (t.night !== 'normal' && t.reason) parts.push(cap(t.reason));
    if (t.sun.sunset) parts.push(`Sunset ${at(t.sun.sunset)}`);
    if (t.sun.dusk.astronomical && t.sun.dawn.astronomical) parts.push(`fully dark ${at(t.sun.dusk.astronomical)}–${at(t.sun.dawn.astronomical)}`);
    else if (t.sun.dusk.civil) parts.push(`dusk ${at(t.sun.dusk.civil)}`);
    if (t.sun.sunrise) parts.push(`sunrise ${at(t.sun.sunrise)}`);
    this.sun.textContent = `${parts.join(' · ')} (${zone.replace(/_/g, ' ')} time)`;

    const bodies = [...t.bodies].sort((a, b) => Number(b.visible) - Number(a.visible) || a.magnitude - b.magnitude);
    this.list.replaceChildren(
      ...bodies.map((b) => {
        const li = document.createElement('li');
        li.dataset.body = b.name;
        li.dataset.visible = String(b.visible);
        li.style.setProperty('--body', BODY_STYLE[b.name].color);
        const name = Object.assign(document.createElement('strong'), { textContent: BODY_STYLE[b.name].label });
        const how = Object.assign(document.createElement('span'), { className: `instrument ${b.instrument}`, textContent: INSTRUMENT[b.instrument] });
        const detail = Object.assign(document.createElement('span'), { className: 'detail' });
        if (b.visible && b.window && b.best) {
          detail.textContent = `${at(b.window.start)}–${at(b.window.end)}; best ${at(b.best.time)}, ${Math.round(b.best.alt)}° up in the ${compassPoint(b.best.az)}, in ${constellationName(b.best.constellation)}`;
        } else {
          detail.textContent = `Not tonight: ${b.reason ?? 'not visible'}`;
        }
        li.append(name, ' ', how, ' ', detail);
        return li;
      }),
    );
  }
}

/** @param {string} s */
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
