// The location form: typed coordinates (applied once typing pauses, only when all three fields are valid), the city
// picker, and "Reset location". It reads the observer back from the store to show it, and hands choices to the
// observer resolution; it keeps no state of its own beyond what its fields show.

import { ApiError } from './api.js';
import { countryName } from './names.js';
import { parseCoordinate, parseElevation } from './format.js';
import { observerAt } from './observer.js';

/**
 * @typedef {import('./store.js').Store} Store
 * @typedef {import('./store.js').Observer} Observer
 * @typedef {import('./store.js').Location} Location
 * @typedef {import('./observer.js').ObserverResolver} ObserverResolver
 * @typedef {'lat' | 'lon' | 'elevation'} Field
 */

const TYPING_PAUSE_MS = 500;

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

export class LocationForm {
  /** @param {Store} store @param {ObserverResolver} resolver */
  constructor(store, resolver) {
    this.store = store;
    this.resolver = resolver;
    this.details = /** @type {HTMLDetailsElement} */ ($('change-location'));
    this.form = /** @type {HTMLFormElement} */ ($('location-form'));
    this.inputs = {
      lat: /** @type {HTMLInputElement} */ ($('lat')),
      lon: /** @type {HTMLInputElement} */ ($('lon')),
      elevation: /** @type {HTMLInputElement} */ ($('elevation')),
    };
    this.city = /** @type {HTMLSelectElement} */ ($('city'));
    this.reset = /** @type {HTMLButtonElement} */ ($('reset-location'));
    // On a phone the form folds away once we know where the user is, so the sky comes first; it stays open when we
    // had to guess. On wider screens it is always open (its summary is hidden).
    this.narrow = window.matchMedia('(max-width: 699px)');
    this.narrow.addEventListener('change', () => {
      if (!this.narrow.matches) this.details.open = true;
    });

    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let typingTimer;
    for (const input of Object.values(this.inputs)) {
      input.addEventListener('input', () => {
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => this.applyTyped(), TYPING_PAUSE_MS);
      });
      input.addEventListener('keydown', (e) => {
        if (e.key !== 'Enter') return;
        e.preventDefault();
        clearTimeout(typingTimer);
        this.applyTyped();
      });
    }
    this.form.addEventListener('submit', (e) => e.preventDefault());

    this.city.addEventListener('change', () => {
      const location = this.store.state.locations.find((l) => l.id === this.city.value);
      if (!location) return;
      this.resolver.notify('');
      void this.resolver.set(observerAt(location), 'city', location);
    });

    this.reset.addEventListener('click', async () => {
      this.reset.disabled = true;
      this.reset.setAttribute('aria-busy', 'true');
      await this.resolver.relocate();
      this.reset.disabled = false;
      this.reset.removeAttribute('aria-busy');
    });

    store.subscribe((state, changed) => {
      if (changed.has('observer') && state.observer) {
        if (state.observerSource !== 'typed') this.fill(state.observer);
        this.clearErrors();
      }
      if (changed.has('live') && state.live && this.city.value !== state.live.location.id) this.city.value = state.live.location.id;
    });
  }

  /** @param {boolean} known whether the user's place is known (fold the form on a phone) */
  fold(known) {
    this.details.open = !this.narrow.matches || !known;
  }

  /** The grid's cities, grouped by region. @param {Location[]} locations */
  fillCities(locations) {
    /** @type {Map<string, Location[]>} */
    const byRegion = new Map();
    for (const l of [...locations].sort((a, b) => a.name.localeCompare(b.name))) {
      const region = regionOf(l.timezone);
      const list = byRegion.get(region) ?? [];
      list.push(l);
      byRegion.set(region, list);
    }
    const placeholder = new Option('Choose a city…', '');
    placeholder.disabled = true;
    this.city.replaceChildren(placeholder);
    for (const region of [...byRegion.keys()].sort()) {
      const group = document.createElement('optgroup');
      group.label = region;
      for (const l of byRegion.get(region) ?? []) group.append(new Option(`${l.name}, ${countryName(l.country)}`, l.id));
      this.city.append(group);
    }
    this.city.disabled = false;
    this.city.value = this.store.state.live?.location.id ?? '';
  }

  citiesUnavailable() {
    this.city.replaceChildren(new Option('Cities unavailable', ''));
  }

  /** Server answers name the bad parameter; put the message next to that field when we can. @param {unknown} err @param {string} what */
  showServerError(err, what) {
    if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
      const field = /^(lat|lon|elevation)\b/.exec(err.message)?.[1];
      if (field) return this.setError(/** @type {Field} */ (field), err.message);
      return this.resolver.notify(`${what}: ${err.message}`, 'warn');
    }
    this.resolver.notify(`${what}. The server did not answer; retrying shortly.`, 'warn');
  }

  /** @private @param {Observer} o */
  fill(o) {
    this.inputs.lat.value = String(round(o.lat, 4));
    this.inputs.lon.value = String(round(o.lon, 4));
    this.inputs.elevation.value = String(Math.round(o.elevation));
  }

  /** @private @param {Field} field @param {string} message */
  setError(field, message) {
    const input = this.inputs[field];
    $(`${field}-error`).textContent = message;
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }

  /** @private */
  clearErrors() {
    for (const f of /** @type {const} */ (['lat', 'lon', 'elevation'])) this.setError(f, '');
  }

  /** @private Validates all three fields; applies them only when all are good, so a typo never moves the sky. */
  applyTyped() {
    const lat = parseCoordinate(this.inputs.lat.value, 'lat');
    const lon = parseCoordinate(this.inputs.lon.value, 'lon');
    const elevation = parseElevation(this.inputs.elevation.value);
    this.setError('lat', lat.ok ? '' : lat.message);
    this.setError('lon', lon.ok ? '' : lon.message);
    this.setError('elevation', elevation.ok ? '' : elevation.message);
    if (!lat.ok || !lon.ok || !elevation.ok) return;
    const next = { lat: lat.value, lon: lon.value, elevation: elevation.value };
    const current = this.store.state.observer;
    if (current && current.lat === next.lat && current.lon === next.lon && current.elevation === next.elevation) return;
    this.resolver.notify('');
    void this.resolver.set(next, 'typed');
  }
}

/** @param {number} v @param {number} digits */
const round = (v, digits) => Math.round(v * 10 ** digits) / 10 ** digits;

/** `Europe/London` → `Europe`; `America/Argentina/Salta` → `Americas`. @param {string} zone */
function regionOf(zone) {
  const area = zone.split('/')[0] ?? 'Other';
  return /** @type {Record<string, string>} */ ({ America: 'Americas', Etc: 'Other', Indian: 'Indian Ocean', Atlantic: 'Atlantic', Pacific: 'Pacific' })[area] ?? area;
}
