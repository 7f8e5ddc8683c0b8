// The live sky page, wired: the store holds the state; observer resolution, the location form, the live stream and
// the on-demand exact spot write it; the renderer draws it. Data flows one way: input → store → page.

import { fetchLocations } from './js/api.js';
import { ExactSpot } from './js/exact.js';
import { LiveStream } from './js/live.js';
import { LocationForm } from './js/location-form.js';
import { ObserverResolver } from './js/observer.js';
import { Renderer } from './js/render.js';
import { Store } from './js/store.js';

const store = new Store();
new Renderer(store);

/** @type {LocationForm} */
let form;
const resolver = new ObserverResolver(store, {
  onError: (err, what) => form.showServerError(err, what),
  onKnown: (known) => form.fold(known),
});
form = new LocationForm(store, resolver);
new ExactSpot(store, (err, what) => form.showServerError(err, what));

const stream = new LiveStream({
  onSnapshot: (snapshot) => store.set({ snapshot, pending: false }),
  onState: (state, detail) => store.set({ stream: { state, detail } }),
});
store.subscribe((state, changed) => {
  // A new live location: the connection is the slow part, so it opens first. The previous sky stays up, dimmed,
  // until the new stream's first snapshot arrives, rather than a blank.
  if (changed.has('live') && state.live && state.live.location.id !== stream.locationId) {
    store.set({ pending: true });
    stream.open(state.live.location.id);
  }
});

for (const radio of document.querySelectorAll('input[name="source"]')) {
  radio.addEventListener('change', (e) => {
    store.set({ view: /** @type {HTMLInputElement} */ (e.target).value === 'exact' ? 'exact' : 'live' });
  });
}

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
  // The page still works from geolocation and typed coordinates; only the picker is lost.
  () => form.citiesUnavailable(),
);
void resolver.start(listed);
