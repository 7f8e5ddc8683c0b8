// The live sky page, wired: the store holds the state; observer resolution, the location form, the place search, the
// live stream, time travel and the on-demand routes write it; the renderer and the panels draw it. Data flows one
// way: input → store → page.

import { fetchLocations, reachability, spotStreamPath } from './js/api.js';
import { LiveStream } from './js/live.js';
import { LocationForm } from './js/location-form.js';
import { ObserverResolver } from './js/observer.js';
import { Renderer } from './js/render.js';
import { Store } from './js/store.js';

/** @typedef {import('./js/store.js').State} State */
/** @typedef {import('./js/live.js').Target} Target */

const store = new Store();
new Renderer(store);

/** @type {LocationForm} */
let form;
/** @param {unknown} err @param {string} what */
const showError = (err, what) => form.showServerError(err, what);
const resolver = new ObserverResolver(store, { onError: showError, onKnown: (known) => form.fold(known) });
form = new LocationForm(store, resolver);

// ---------------------------------------------------------------- the panels a first sky does not need

// Tonight, the happenings feed, time travel, the place search and the on-demand spot load once the first sky is up
// (or after two seconds without one): the first sky waits for fewer scripts. Each reads the store as it is then.
/** @type {import('./js/happenings.js').HappeningsFeed | null} */
let feed = null;
/** @type {import('./js/api.js').Happening[]} happenings the stream delivered before the feed was there */
const early = [];
let panelsAsked = false;
function loadPanels() {
  if (panelsAsked) return;
  panelsAsked = true;
  Promise.all([
    import('./js/tonight-panel.js'),
    import('./js/happenings.js'),
    import('./js/travel.js'),
    import('./js/place-search.js'),
    import('./js/exact.js'),
  ]).then(([{ TonightPanel }, { HappeningsFeed }, { TimeTravel }, { PlaceSearch }, { ExactSpot }]) => {
    new TonightPanel(store);
    feed = new HappeningsFeed(store);
    for (const h of early.splice(0)) feed.pushed(h);
    new TimeTravel(store, showError);
    new PlaceSearch(resolver);
    new ExactSpot(store, showError);
  }, () => {
    // Offline before the shell kept them: asked again shortly.
    panelsAsked = false;
    setTimeout(loadPanels, 5000);
  });
}
const stopWaiting = store.subscribe((s) => {
  if (!s.snapshot && !s.spot && !s.exact) return;
  stopWaiting();
  loadPanels();
});
setTimeout(loadPanels, 2000);

// ---------------------------------------------------------------- the one live connection

const stream = new LiveStream({
  onSnapshot: (snapshot, target) => {
    // Time to first live data, from navigation start (bench:page reads it).
    if (performance.getEntriesByName('orrery:first-live').length === 0) performance.mark('orrery:first-live');
    store.set(target.kind === 'spot' ? { spot: snapshot, spotStream: 'live', pending: false, reachable: true } : { snapshot, pending: false, reachable: true });
  },
  // A stream that lost its connection is the surest sign the server cannot be reached (a cached /locations is not).
  onState: (state, detail) => store.set(state === 'reconnecting' ? { stream: { state, detail }, reachable: false } : { stream: { state, detail } }),
  onHappening: (h) => (feed ? feed.pushed(h) : early.push(h)),
  onResume: (recovered) => {
    if (!recovered) resolver.notify('Back online, but some of what happened meanwhile could not be replayed; the calendar below is current.', 'warn');
  },
  // A server without exact-spot streams: stay on the grid stream and compute the spot on demand instead.
  onRefused: () => store.set({ spotStream: 'refused' }),
});

/** What to stream: the exact spot in that view (where the server streams spots), else the grid location. @param {State} s @returns {Target | null} */
function streamTarget(s) {
  if (s.view === 'exact' && s.spotStream !== 'refused' && s.observer) {
    const o = s.observer;
    return { kind: 'spot', key: `spot:${o.lat},${o.lon},${o.elevation}`, path: spotStreamPath(o) };
  }
  return s.live ? { kind: 'grid', key: s.live.location.id, path: `/stream/${encodeURIComponent(s.live.location.id)}` } : null;
}

store.subscribe((s, changed) => {
  if (!['live', 'view', 'observer', 'spotStream'].some((k) => changed.has(/** @type {keyof State} */ (k)))) return;
  const target = streamTarget(s);
  if (!target || target.key === stream.target?.key) return;
  // The connection is the slow part, so it opens first. The previous sky stays up, dimmed, until the new stream's
  // first snapshot arrives, rather than a blank.
  if (target.kind === 'spot') store.set({ spot: null });
  store.set({ pending: true });
  stream.open(target);
});

for (const radio of document.querySelectorAll('input[name="source"]')) {
  radio.addEventListener('change', (e) => {
    store.set({ view: /** @type {HTMLInputElement} */ (e.target).value === 'exact' ? 'exact' : 'live' });
  });
}

// ---------------------------------------------------------------- offline, night mode, the chart's keyboard path

reachability.addEventListener('reachable', () => store.set({ reachable: true }));
reachability.addEventListener('unreachable', () => store.set({ reachable: false }));
window.addEventListener('offline', () => store.set({ reachable: false }));
const offline = /** @type {HTMLElement} */ (document.getElementById('offline'));
store.subscribe((s, changed) => {
  if (changed.has('reachable')) offline.hidden = s.reachable;
  if (changed.has('night')) {
    if (s.night) document.documentElement.dataset.night = 'on';
    else delete document.documentElement.dataset.night;
    nightToggle.setAttribute('aria-pressed', String(s.night));
    try {
      localStorage.setItem('orrery:night', s.night ? 'on' : 'off');
    } catch {
      // storage blocked: night mode lasts for this visit only
    }
  }
});
const nightToggle = /** @type {HTMLButtonElement} */ (document.getElementById('night-toggle'));
store.set({ night: document.documentElement.dataset.night === 'on' });
nightToggle.setAttribute('aria-pressed', String(store.state.night));
nightToggle.addEventListener('click', () => store.set({ night: !store.state.night }));

const chartDetail = /** @type {HTMLElement} */ (document.getElementById('chart-detail'));
document.getElementById('sky')?.addEventListener('focusin', (e) => {
  chartDetail.textContent = /** @type {Element} */ (e.target).getAttribute('aria-label') ?? '';
});

// An installable app with an offline shell: the service worker keeps the page's files for when the network is gone.
// Registered once the first sky is up and the page is idle: its install fetches the page's files again.
if ('serviceWorker' in navigator) {
  const register = () =>
    whenIdle(() => {
      navigator.serviceWorker.register('sw.js').catch(() => {
        // No offline shell (a private window, say): the page works as before.
      });
    });
  const stop = store.subscribe((s) => {
    if (!s.snapshot && !s.spot && !s.exact) return;
    stop();
    register();
  });
}

// ---------------------------------------------------------------- start

/** @param {() => void} fn */
function whenIdle(fn) {
  if ('requestIdleCallback' in window) requestIdleCallback(fn, { timeout: 700 });
  else setTimeout(fn, 100);
}

// The city list is off the critical path: a located page can stream before the picker fills.
const listed = fetchLocations().then(
  (locations) => {
    store.set({ locations });
    // Building ~200 options takes a noticeable slice of a slow phone's main thread: after the first sky.
    whenIdle(() => form.fillCities(locations));
  },
  // The page still works from geolocation, search and typed coordinates; only the picker is lost.
  () => form.citiesUnavailable(),
);
void resolver.start(listed);
