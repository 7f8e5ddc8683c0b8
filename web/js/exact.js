// The exact spot on demand, for a server that does not stream spots (it refused /stream?lat=&lon=): GET /planets for
// the observer's own coordinates, again every minute while the page is visible and shows the spot. One request and
// one timer at a time; a background tab costs nothing.

import { fetchPlanets, isAbort } from './api.js';

/** @typedef {import('./store.js').Store} Store */

const REFRESH_MS = 60_000;

export class ExactSpot {
  /** @param {Store} store @param {(err: unknown, what: string) => void} onError */
  constructor(store, onError) {
    this.store = store;
    this.onError = onError;
    /** @type {AbortController | null} */
    this.request = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    store.subscribe((_state, changed) => {
      if (!['observer', 'view', 'spotStream'].some((k) => changed.has(/** @type {keyof import('./store.js').State} */ (k)))) return;
      if (this.wanted()) this.refresh();
      else this.stop();
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState !== 'visible' || !this.wanted()) return clearTimeout(this.timer);
      const exact = this.store.state.exact;
      const age = exact ? Date.now() - Date.parse(exact.time) : Infinity;
      if (age >= REFRESH_MS) this.refresh();
      else if (!this.request) this.schedule();
    });
    if (this.wanted()) this.refresh();
  }

  /** Only while the spot is shown and not streamed. @private */
  wanted() {
    const s = this.store.state;
    return s.view === 'exact' && s.spotStream === 'refused' && s.observer !== null;
  }

  /** @private */
  stop() {
    clearTimeout(this.timer);
    this.request?.abort();
    this.request = null;
  }

  refresh() {
    const observer = this.store.state.observer;
    clearTimeout(this.timer);
    this.request?.abort();
    if (!observer) return;
    const controller = new AbortController();
    this.request = controller;
    fetchPlanets(observer, controller.signal)
      .then((answer) => {
        if (this.request !== controller) return;
        this.store.set({ exact: answer });
      })
      .catch((err) => {
        if (isAbort(err) || this.request !== controller) return;
        this.onError(err, 'Could not compute the sky for your exact spot');
      })
      .finally(() => {
        if (this.request !== controller) return;
        this.request = null;
        this.schedule();
      });
  }

  /** @private */
  schedule() {
    clearTimeout(this.timer);
    if (document.visibilityState !== 'visible') return;
    this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
  }
}
