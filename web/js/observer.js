// Observer resolution: where the user is (an address ?location=, the browser's geolocation, a typed point, a chosen
// city, or a stand-in while waiting) and which live grid location follows from it. Writes the store; draws nothing.

import { GREENWICH } from './api-constants.js';
import { ApiError, fetchNearest, fetchTimeZone, isAbort } from './api.js';
import { distanceKm } from './format.js';
import { locate } from './geo.js';

/**
 * @typedef {import('./store.js').Store} Store
 * @typedef {import('./store.js').Observer} Observer
 * @typedef {import('./store.js').Location} Location
 * @typedef {import('./store.js').ObserverSource} ObserverSource
 */

/** How long the first paint waits for the Geolocation API before showing a guess (it keeps listening). */
const GEO_GRACE_MS = 1500;

/** @param {Location} l @returns {Observer} */
export const observerAt = (l) => ({ lat: l.lat, lon: l.lon, elevation: l.elevation });

export class ObserverResolver {
  /**
   * @param {Store} store
   * @param {{ onError: (err: unknown, what: string) => void, onKnown: (known: boolean) => void }} hooks
   *   onError: a failed nearest lookup; onKnown: whether the start-up found the user (true) or had to guess (false)
   */
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    /** bumped on every observer change, so a late answer for an older one is dropped */
    this.generation = 0;
    /** @type {AbortController | null} */
    this.nearestRequest = null;
  }

  /**
   * The single entry point for "the user is here now".
   * @param {Observer} observer
   * @param {ObserverSource} source
   * @param {Location} [knownLocation] when the user picked a grid location, no need to ask for the nearest
   * @param {{ name: string, timeZone: string }} [place] a place found by name: what to call it, and its zone
   */
  async set(observer, source, knownLocation, place) {
    const generation = ++this.generation;
    // A grid city's and a found place's zone are known; any other point's is asked for (its own, not a city's).
    const timeZone = place?.timeZone ?? knownLocation?.timezone ?? null;
    this.store.set({ observer, observerSource: source, placeName: place?.name ?? null, timeZone });
    syncUrl(source === 'city' && knownLocation ? knownLocation.id : null);
    if (!timeZone) this.lookUpZone(observer, generation);

    this.nearestRequest?.abort();
    if (knownLocation) {
      this.store.set({ live: { location: knownLocation, distanceKm: distanceKm(observer.lat, observer.lon, knownLocation.lat, knownLocation.lon) } });
      return;
    }
    await this.findNearest(observer, generation, 0);
  }

  /**
   * The live grid location for a point; tried again (backing off) while the server cannot be reached, so a page
   * opened offline goes live by itself once it can.
   * @private @param {Observer} observer @param {number} generation @param {number} attempt
   */
  async findNearest(observer, generation, attempt) {
    const controller = new AbortController();
    this.nearestRequest = controller;
    try {
      const answer = await fetchNearest(observer.lat, observer.lon, controller.signal);
      if (generation !== this.generation) return;
      this.store.set({ live: { location: answer.location, distanceKm: answer.distanceKm } });
    } catch (err) {
      if (isAbort(err) || generation !== this.generation) return;
      this.hooks.onError(err, 'Could not find the nearest live location');
      if (err instanceof ApiError && err.status < 500) return;
      const delay = Math.min(15_000, 1000 * 2 ** attempt);
      setTimeout(() => {
        if (generation === this.generation) void this.findNearest(observer, generation, attempt + 1);
      }, delay);
    }
  }

  /** @private @param {Observer} observer @param {number} generation */
  lookUpZone(observer, generation) {
    fetchTimeZone(observer.lat, observer.lon).then(
      (answer) => {
        if (generation === this.generation) this.store.set({ timeZone: answer.timezone });
      },
      () => {
        // Times stay in the live location's zone, said beside them; the next observer change asks again.
      },
    );
  }

  /** Asks the browser again (the "Reset location" button); a refusal leaves the sky where it was. */
  async relocate() {
    this.notify('Asking your browser for your location…');
    const fix = await locate();
    if (fix.ok) {
      this.notify('');
      void this.set({ lat: fix.lat, lon: fix.lon, elevation: Math.round(fix.elevation ?? 0) }, 'geolocation');
    } else {
      this.notify(`${fix.message} The sky stays where it was; choose a city or type coordinates.`, 'warn');
    }
  }

  /** @param {string} text @param {'info' | 'warn'} [tone] */
  notify(text, tone = 'info') {
    this.store.set({ notice: { text, tone } });
  }

  /** Whether the user has made a choice, which wins over a late geolocation answer. */
  userChose() {
    const source = this.store.state.observerSource;
    return source === 'city' || source === 'typed' || source === 'place';
  }

  /** Without a position, prefer a city in the browser's own time zone, then Greenwich. */
  fallback() {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const sameZone = this.store.state.locations.find((l) => l.timezone === zone);
    if (sameZone) return { observer: observerAt(sameZone), location: sameZone, why: `a city in your time zone (${zone.replace(/_/g, ' ')})` };
    return { observer: GREENWICH, location: undefined, why: 'Greenwich' };
  }

  /**
   * Start-up: a ?location= in the address wins; else geolocation, with a stand-in shown if the browser takes long.
   * @param {Promise<void>} listed settles once the grid's locations are in the store (or failed to load)
   */
  async start(listed) {
    const requested = new URL(window.location.href).searchParams.get('location');
    if (requested) {
      await listed;
      const location = this.store.state.locations.find((l) => l.id === requested);
      if (location) {
        this.hooks.onKnown(true);
        void this.set(observerAt(location), 'city', location);
        return;
      }
      this.notify(`There is no live location called “${requested}”; showing where you are instead.`, 'warn');
    }

    const geo = locate();
    const grace = new Promise((resolve) => setTimeout(resolve, GEO_GRACE_MS, null));
    const first = await Promise.race([geo, grace]);
    if (!first) {
      // The browser is still asking the user: show a sky now, move it when the answer comes.
      await listed;
      const guess = this.fallback();
      if (!this.userChose()) {
        void this.set(guess.observer, 'fallback', guess.location);
        this.notify(`Waiting for your location… meanwhile showing ${guess.why}.`);
      }
    }
    const fix = await geo;
    if (this.userChose()) return;
    if (fix.ok) {
      this.notify('');
      this.hooks.onKnown(true);
      void this.set({ lat: fix.lat, lon: fix.lon, elevation: Math.round(fix.elevation ?? 0) }, 'geolocation');
    } else {
      this.hooks.onKnown(false);
      await listed;
      const guess = this.fallback();
      if (first) void this.set(guess.observer, 'fallback', guess.location);
      this.notify(`${fix.message} Showing ${guess.why}; choose a city or type your coordinates.`, 'warn');
    }
  }
}

/** Only an explicitly chosen city goes into the address, so a reload of a located page locates again. @param {string | null} id */
function syncUrl(id) {
  const url = new URL(window.location.href);
  if (id) url.searchParams.set('location', id);
  else url.searchParams.delete('location');
  if (url.href !== window.location.href) history.replaceState(null, '', url);
}
