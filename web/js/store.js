// The page's state, in one place. Inputs (geolocation, the form, the stream, the on-demand answers) write it through
// `set`; the renderer reads it and redraws what changed. Nothing else keeps a copy.

/**
 * @typedef {import('./api.js').Observer} Observer
 * @typedef {import('./api.js').Location} Location
 * @typedef {import('./api.js').Snapshot} Snapshot
 * @typedef {import('./api.js').PlanetsResponse} PlanetsResponse
 * @typedef {import('./live.js').StreamState} StreamState
 * @typedef {'geolocation' | 'typed' | 'city' | 'fallback'} ObserverSource
 * @typedef {{
 *   locations: Location[],
 *   observer: Observer | null,
 *   observerSource: ObserverSource,
 *   live: { location: Location, distanceKm: number } | null,
 *   snapshot: Snapshot | null,
 *   exact: PlanetsResponse | null,
 *   view: 'live' | 'exact',
 *   pending: boolean,
 *   stream: { state: StreamState, detail: string },
 *   notice: { text: string, tone: 'info' | 'warn' },
 * }} State
 * @typedef {(state: State, changed: ReadonlySet<keyof State>) => void} Listener
 */

/** @returns {State} */
const initial = () => ({
  locations: [],
  observer: null,
  observerSource: 'fallback',
  live: null,
  snapshot: null,
  exact: null,
  view: 'live',
  pending: false,
  stream: { state: 'idle', detail: '' },
  notice: { text: '', tone: 'info' },
});

export class Store {
  constructor() {
    /** @type {State} */
    this.state = initial();
    /** @type {Set<Listener>} */
    this.listeners = new Set();
  }

  /** @param {Partial<State>} patch */
  set(patch) {
    const changed = /** @type {Set<keyof State>} */ (new Set());
    for (const key of /** @type {(keyof State)[]} */ (Object.keys(patch))) {
      if (this.state[key] !== patch[key]) changed.add(key);
    }
    if (changed.size === 0) return;
    this.state = { ...this.state, ...patch };
    for (const fn of this.listeners) fn(this.state, changed);
  }

  /** @param {Listener} fn */
  subscribe(fn) {
    this.listeners.add(fn);
  }
}
