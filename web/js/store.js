// The page's state, in one place. Inputs (geolocation, the form, the stream, the on-demand answers) write it through
// `set`; the renderer reads it and redraws what changed. Nothing else keeps a copy.

/**
 * @typedef {import('./api.js').Observer} Observer
 * @typedef {import('./api.js').Location} Location
 * @typedef {import('./api.js').Snapshot} Snapshot
 * @typedef {import('./api.js').PlanetsResponse} PlanetsResponse
 * @typedef {import('./live.js').StreamState} StreamState
 * @typedef {import('./api.js').TonightResponse} TonightResponse
 * @typedef {import('./api.js').Happening} Happening
 * @typedef {'geolocation' | 'typed' | 'city' | 'place' | 'fallback'} ObserverSource
 * @typedef {{
 *   locations: Location[],
 *   observer: Observer | null,
 *   observerSource: ObserverSource,
 *   placeName: string | null,
 *   timeZone: string | null,
 *   live: { location: Location, distanceKm: number } | null,
 *   snapshot: Snapshot | null,
 *   spot: Snapshot | null,
 *   spotStream: 'unknown' | 'live' | 'refused',
 *   exact: PlanetsResponse | null,
 *   travel: number | null,
 *   travelSky: PlanetsResponse | null,
 *   tonight: TonightResponse | null,
 *   happenings: Happening[],
 *   missed: Happening[],
 *   night: boolean,
 *   reachable: boolean,
 *   view: 'live' | 'exact',
 *   pending: boolean,
 *   stream: { state: StreamState, detail: string },
 *   notice: { text: string, tone: 'info' | 'warn' },
 * }} State
 *   placeName: the searched place's name, when the observer came from the place search; timeZone: the observer's own
 *   IANA zone (GET /timezone); spot: the latest exact-spot stream snapshot; spotStream: whether this server streams
 *   spots (an older one refuses); exact: the on-demand answer used when it does not; travel: the instant shown
 *   instead of now (null: live), travelSky its answer; happenings: the calendar ahead; missed: happenings the
 *   stream replayed on a resume, i.e. that happened while the page was away
 * @typedef {(state: State, changed: ReadonlySet<keyof State>) => void} Listener
 */

/** @returns {State} */
const initial = () => ({
  locations: [],
  observer: null,
  observerSource: 'fallback',
  placeName: null,
  timeZone: null,
  live: null,
  snapshot: null,
  spot: null,
  spotStream: 'unknown',
  exact: null,
  travel: null,
  travelSky: null,
  tonight: null,
  happenings: [],
  missed: [],
  night: false,
  reachable: true,
  view: 'live',
  pending: false,
  stream: { state: 'idle', detail: '' },
  notice: { text: '', tone: 'info' },
});

/** The zone to show times in: the observer's own once known, else the live location's, else UTC. @param {State} s */
export const zoneOf = (s) => s.timeZone ?? s.live?.location.timezone ?? 'UTC';

/**
 * What the sky on screen is: a travelled-to instant, the exact spot (streamed, or on demand where the server has no
 * spot streams), or the live grid location. @param {State} s
 */
export function shownSky(s) {
  if (s.travel !== null) return s.travelSky ? { kind: /** @type {const} */ ('travel'), data: s.travelSky, observer: s.travelSky.observer } : null;
  if (s.view === 'exact') {
    if (s.spot?.observer) return { kind: /** @type {const} */ ('exact'), data: s.spot, observer: { lat: s.spot.observer.latitude, lon: s.spot.observer.longitude, elevation: s.spot.observer.elevation } };
    if (s.exact) return { kind: /** @type {const} */ ('exact'), data: s.exact, observer: s.exact.observer };
  }
  if (s.snapshot) return { kind: /** @type {const} */ ('live'), data: s.snapshot, observer: { lat: s.snapshot.location.lat, lon: s.snapshot.location.lon, elevation: s.snapshot.location.elevation } };
  return null;
}

/** The observer the page computes for: the exact spot in that view, else the grid location (or the observer). @param {State} s */
export function computedObserver(s) {
  if (s.view === 'exact' || !s.live) return s.observer;
  const l = s.live.location;
  return { lat: l.lat, lon: l.lon, elevation: l.elevation };
}

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

  /** @param {Listener} fn @returns {() => void} stops listening */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
