// Place search: a combobox over GET /places (names and typed coordinates, searched on the server). Choosing a place
// makes it the observer, with the place's own time zone.

import { fetchPlaces, isAbort } from './api.js';
import { formatLatLon } from './format.js';
import { countryName } from './names.js';

/**
 * @typedef {import('./api.js').Place} Place
 * @typedef {import('./observer.js').ObserverResolver} ObserverResolver
 */

const TYPING_PAUSE_MS = 250;

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @param {Place} p */
function describe(p) {
  if (p.kind === 'coordinates') return p.near ? `${p.name} · ${Math.round(p.near.distanceKm)} km from ${p.near.name}, ${countryName(p.near.country)}` : p.name;
  return `${p.name}, ${countryName(p.country ?? '')} · ${formatLatLon(p.lat, p.lon)}`;
}

export class PlaceSearch {
  /** @param {ObserverResolver} resolver */
  constructor(resolver) {
    this.resolver = resolver;
    this.input = /** @type {HTMLInputElement} */ ($('place'));
    this.results = $('place-results');
    this.status = $('place-status');
    /** @type {Place[]} */
    this.places = [];
    this.active = -1;
    /** @type {AbortController | null} */
    this.request = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    this.input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.search(), TYPING_PAUSE_MS);
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (this.places.length === 0) return;
        const step = e.key === 'ArrowDown' ? 1 : -1;
        this.highlight((this.active + step + this.places.length) % this.places.length);
      } else if (e.key === 'Enter') {
        e.preventDefault();
        clearTimeout(timer);
        if (this.active >= 0) this.choose(this.active);
        else void this.search(true);
      } else if (e.key === 'Escape') {
        this.close();
      }
    });
    this.results.addEventListener('click', (e) => {
      const li = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest('[role=option]'));
      if (li) this.choose(Number(li.dataset.index));
    });
    // This module loads after the first sky: what was typed before it was there is searched now.
    if (this.input.value.trim()) void this.search();
  }

  /** @private @param {boolean} [chooseFirst] Enter before the results came: take the first */
  async search(chooseFirst = false) {
    const text = this.input.value.trim();
    this.request?.abort();
    if (!text) return this.close();
    const controller = new AbortController();
    this.request = controller;
    try {
      const answer = await fetchPlaces(text, controller.signal);
      if (this.request !== controller) return;
      this.places = answer.places;
      this.render();
      if (chooseFirst && this.places.length > 0) this.choose(0);
    } catch (err) {
      if (isAbort(err) || this.request !== controller) return;
      this.places = [];
      this.results.replaceChildren();
      this.input.setAttribute('aria-expanded', 'false');
      this.status.textContent = err instanceof Error ? err.message : 'The search failed.';
    }
  }

  /** @private */
  render() {
    this.active = -1;
    this.input.removeAttribute('aria-activedescendant');
    this.results.replaceChildren(
      ...this.places.map((p, i) => {
        const li = document.createElement('div');
        li.id = `place-option-${i}`;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        li.dataset.index = String(i);
        li.textContent = describe(p);
        return li;
      }),
    );
    this.input.setAttribute('aria-expanded', String(this.places.length > 0));
    this.status.textContent = this.places.length === 0 ? 'No place of that name.' : `${this.places.length} places: arrow keys to choose, Enter to pick.`;
  }

  /** @private @param {number} i */
  highlight(i) {
    this.active = i;
    for (const li of this.results.children) li.setAttribute('aria-selected', String(li.id === `place-option-${i}`));
    this.input.setAttribute('aria-activedescendant', `place-option-${i}`);
  }

  /** @private @param {number} i */
  choose(i) {
    const p = this.places[i];
    if (!p) return;
    this.close();
    this.input.value = p.kind === 'city' ? `${p.name}, ${countryName(p.country ?? '')}` : p.name;
    const name = p.kind === 'city' ? p.name : p.near ? `near ${p.near.name}` : p.name;
    this.resolver.notify('');
    void this.resolver.set({ lat: p.lat, lon: p.lon, elevation: 0 }, 'place', undefined, { name, timeZone: p.timezone });
  }

  /** @private */
  close() {
    this.places = [];
    this.active = -1;
    this.results.replaceChildren();
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }
}
