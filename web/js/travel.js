// Time travel: a ±24 h slider and a date/time picker (in the observer's own time zone) move the instant shown; the
// chart, the table and the tonight panel follow through the on-demand API. "Back to live" returns to the stream.

import { fetchPlanets, isAbort } from './api.js';
import { usableZone } from './names.js';
import { computedObserver, zoneOf } from './store.js';

/**
 * @typedef {import('./store.js').Store} Store
 * @typedef {import('./store.js').State} State
 */

const MINUTE = 60_000;
const SETTLE_MS = 150;

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @type {Map<string, Intl.DateTimeFormat>} */
const partsFormatters = new Map();

/** Wall-clock fields of `ms` in `zone`, as a UTC timestamp of the same fields. @param {number} ms @param {string} zone */
function wallAsUtc(ms, zone) {
  let f = partsFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    partsFormatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
}

/** `2026-03-20T21:30` as wall time in `zone` → epoch ms (DST gaps resolve forward). @param {string} local @param {string} zone */
export function zonedToEpoch(local, zone) {
  const guess = Date.parse(`${local}:00Z`);
  if (Number.isNaN(guess)) return Number.NaN;
  let ms = guess - (wallAsUtc(guess, zone) - guess);
  ms = guess - (wallAsUtc(ms, zone) - ms);
  return ms;
}

/** Epoch ms → `YYYY-MM-DDTHH:MM` wall time in `zone` (a datetime-local input's value). @param {number} ms @param {string} zone */
export const epochToZoned = (ms, zone) => new Date(wallAsUtc(ms, zone)).toISOString().slice(0, 16);

export class TimeTravel {
  /** @param {Store} store @param {(err: unknown, what: string) => void} onError */
  constructor(store, onError) {
    this.store = store;
    this.onError = onError;
    this.slider = /** @type {HTMLInputElement} */ ($('travel-slider'));
    this.picker = /** @type {HTMLInputElement} */ ($('travel-at'));
    this.live = /** @type {HTMLButtonElement} */ ($('travel-live'));
    this.readout = $('travel-readout');
    /** the instant the slider's 0 stands for: when travel began */
    this.anchor = 0;
    /** @type {AbortController | null} */
    this.request = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.settle = undefined;

    this.slider.addEventListener('input', () => {
      if (this.store.state.travel === null) this.anchor = Date.now();
      const offset = Number(this.slider.value) * MINUTE;
      this.go(offset === 0 && this.store.state.travel === null ? null : this.anchor + offset);
    });
    this.picker.addEventListener('change', () => {
      const ms = zonedToEpoch(this.picker.value, usableZone(zoneOf(this.store.state)));
      if (Number.isNaN(ms)) return;
      this.anchor = ms;
      this.slider.value = '0';
      this.go(ms);
    });
    this.live.addEventListener('click', () => this.go(null));
    store.subscribe((s, changed) => {
      if (s.travel !== null && (changed.has('observer') || changed.has('view') || changed.has('live'))) this.fetch(s.travel);
      if (changed.has('travel') || changed.has('timeZone') || changed.has('snapshot')) this.renderControls(s);
    });
    this.renderControls(store.state);
  }

  /** @param {number | null} ms the instant to show, null for live */
  go(ms) {
    if (ms === null) {
      clearTimeout(this.settle);
      this.request?.abort();
      this.request = null;
      this.slider.value = '0';
      this.store.set({ travel: null, travelSky: null });
      return;
    }
    this.store.set({ travel: ms });
    clearTimeout(this.settle);
    // A dragged slider sends many values: ask for the one it rests on.
    this.settle = setTimeout(() => this.fetch(ms), SETTLE_MS);
  }

  /** @private @param {number} ms */
  fetch(ms) {
    const observer = computedObserver(this.store.state);
    if (!observer) return;
    this.request?.abort();
    const controller = new AbortController();
    this.request = controller;
    fetchPlanets(observer, controller.signal, new Date(ms))
      .then((answer) => {
        if (this.request === controller && this.store.state.travel === ms) this.store.set({ travelSky: answer });
      })
      .catch((err) => {
        if (!isAbort(err) && this.request === controller) this.onError(err, 'Could not compute the sky at that time');
      });
  }

  /** @private @param {State} s */
  renderControls(s) {
    const travelling = s.travel !== null;
    document.body.dataset.travel = String(travelling);
    this.live.disabled = !travelling;
    const zone = usableZone(zoneOf(s));
    const shown = s.travel ?? (s.snapshot ? Date.parse(s.snapshot.time) : Date.now());
    if (document.activeElement !== this.picker) this.picker.value = epochToZoned(shown, zone);
    const minutes = Number(this.slider.value);
    const a = Math.abs(minutes);
    const offset = `${minutes < 0 ? '−' : '+'}${Math.floor(a / 60)} h ${String(a % 60).padStart(2, '0')} min`;
    this.readout.textContent = !travelling ? 'Live' : minutes === 0 ? 'Chosen time' : offset;
    this.slider.setAttribute('aria-valuetext', travelling ? this.readout.textContent : 'now, live');
  }
}
