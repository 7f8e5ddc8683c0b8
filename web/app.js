// The live sky page: works out where the user is, streams the nearest grid location, asks the
// on-demand route for the exact spot, and draws both into the chart and the table.
//
// Data flows one way: an input (geolocation, typed coordinates, city, ?location=) sets the observer;
// the observer decides the live location and the exact query; snapshots and answers only render.

import { ApiError, fetchLocations, fetchNearest, fetchPlanets, isAbort } from './js/api.js';
import { SkyChart } from './js/chart.js';
import {
  distanceKm, formatClock, formatDistanceKm, formatLatLon, isKnownTimeZone, parseCoordinate, parseElevation,
} from './js/format.js';
import { locate } from './js/geo.js';
import { LiveStream } from './js/live.js';
import { BodyTable } from './js/table.js';
import { BODY_STYLE } from './js/bodies.js';
import { GREENWICH } from './js/api-constants.js';

/** @typedef {import('./js/api.js').Observer} Observer */
/** @typedef {import('./js/api.js').Location} Location */
/** @typedef {import('./js/api.js').Snapshot} Snapshot */
/** @typedef {import('./js/api.js').PlanetsResponse} PlanetsResponse */
/** @typedef {'geolocation' | 'typed' | 'city' | 'fallback'} ObserverSource */

const TYPING_PAUSE_MS = 500;
const EXACT_REFRESH_MS = 60_000;
/** How long the first paint waits for the Geolocation API before showing a guess (it keeps listening). */
const GEO_GRACE_MS = 1500;

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const ui = {
  status: $('status'),
  statusText: $('status-text'),
  lastUpdate: /** @type {HTMLTimeElement} */ ($('last-update')),
  liveLocation: $('live-location'),
  liveMeta: $('live-meta'),
  observerNote: $('observer-note'),
  upNow: $('up-now'),
  change: /** @type {HTMLDetailsElement} */ ($('change-location')),
  changeCurrent: $('change-current'),
  notice: $('notice'),
  form: /** @type {HTMLFormElement} */ ($('location-form')),
  lat: /** @type {HTMLInputElement} */ ($('lat')),
  lon: /** @type {HTMLInputElement} */ ($('lon')),
  elevation: /** @type {HTMLInputElement} */ ($('elevation')),
  city: /** @type {HTMLSelectElement} */ ($('city')),
  reset: /** @type {HTMLButtonElement} */ ($('reset-location')),
  sourceNote: $('source-note'),
  chartSource: $('chart-source'),
  tableFoot: $('table-foot'),
  curlHint: $('curl-hint'),
};

const chart = new SkyChart(/** @type {SVGSVGElement} */ (/** @type {unknown} */ ($('sky'))));
const table = new BodyTable(/** @type {HTMLTableElement} */ ($('bodies')));

const state = {
  /** @type {Location[]} */
  locations: [],
  /** @type {Observer | null} */
  observer: null,
  /** @type {ObserverSource} */
  observerSource: 'fallback',
  /** @type {{ location: Location, distanceKm: number } | null} */
  live: null,
  /** @type {Snapshot | null} */
  snapshot: null,
  /** @type {PlanetsResponse | null} */
  exact: null,
  /** @type {'live' | 'exact'} */
  view: 'live',
  /** bumped on every observer change, so a late answer for an older one is dropped */
  generation: 0,
};

/** @type {AbortController | null} */
let nearestRequest = null;
/** @type {AbortController | null} */
let exactRequest = null;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let exactTimer;

const stream = new LiveStream({
  onSnapshot(snapshot) {
    state.snapshot = snapshot;
    delete document.body.dataset.pending;
    ui.lastUpdate.dateTime = snapshot.time;
    ui.lastUpdate.textContent = formatClock(new Date(snapshot.time), timeZoneOf(snapshot.location));
    ui.status.dataset.lastTime = snapshot.time;
    if (state.view === 'live') render();
    renderClock();
  },
  onState(streamState, detail) {
    ui.status.dataset.state = streamState;
    const words = {
      idle: 'Not connected',
      connecting: 'Connecting…',
      live: 'Live',
      reconnecting: 'Reconnecting…',
    }[streamState];
    ui.statusText.textContent = words;
    ui.status.title = detail || words;
  },
});

// ---------------------------------------------------------------- the observer and what follows from it

/**
 * The single entry point for "the user is here now".
 * @param {Observer} observer
 * @param {ObserverSource} source
 * @param {Location} [knownLocation] when the user picked a grid location, no need to ask for the nearest
 */
async function setObserver(observer, source, knownLocation) {
  const generation = ++state.generation;
  state.observer = observer;
  state.observerSource = source;
  if (source !== 'typed') fillInputs(observer);
  clearFieldErrors();
  syncUrl(source === 'city' && knownLocation ? knownLocation.id : null);
  refreshExact();

  nearestRequest?.abort();
  if (knownLocation) {
    applyLive(knownLocation, distanceKm(observer.lat, observer.lon, knownLocation.lat, knownLocation.lon));
    return;
  }
  const controller = new AbortController();
  nearestRequest = controller;
  try {
    const answer = await fetchNearest(observer.lat, observer.lon, controller.signal);
    if (generation !== state.generation) return;
    applyLive(answer.location, answer.distanceKm);
  } catch (err) {
    if (isAbort(err) || generation !== state.generation) return;
    showServerError(err, 'Could not find the nearest live location');
  }
}

/** @param {Location} location @param {number} km */
function applyLive(location, km) {
  const switched = state.live?.location.id !== location.id;
  if (switched) {
    // First thing: the connection is the slow part, the DOM updates below can happen while it opens.
    // The previous sky stays up, dimmed, until the new stream's first snapshot arrives, rather than a blank.
    document.body.dataset.pending = 'true';
    stream.open(location.id);
  }
  state.live = { location, distanceKm: km };
  ui.liveLocation.dataset.locationId = location.id;
  ui.liveLocation.replaceChildren(
    location.name,
    Object.assign(document.createElement('span'), { className: 'country', textContent: `, ${countryName(location.country)}` }),
  );
  if (ui.city.value !== location.id) ui.city.value = location.id;
  ui.curlHint.textContent = `curl -N ${window.location.origin}/stream/${location.id}`;
  renderMeta();
}

function refreshExact() {
  clearTimeout(exactTimer);
  exactRequest?.abort();
  const observer = state.observer;
  if (!observer) return;
  const controller = new AbortController();
  exactRequest = controller;
  const generation = state.generation;
  fetchPlanets(observer, controller.signal)
    .then((answer) => {
      if (generation !== state.generation) return;
      state.exact = answer;
      if (state.view === 'exact') render();
      else renderNotes();
    })
    .catch((err) => {
      if (isAbort(err) || generation !== state.generation) return;
      showServerError(err, 'Could not compute your exact position');
    })
    .finally(() => {
      if (exactRequest !== controller) return;
      exactRequest = null;
      scheduleExact();
    });
}

/** One timer at a time, and none while the page is hidden: a background tab should cost nothing. */
function scheduleExact() {
  clearTimeout(exactTimer);
  if (document.visibilityState !== 'visible') return;
  exactTimer = setTimeout(refreshExact, EXACT_REFRESH_MS);
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return clearTimeout(exactTimer);
  const age = state.exact ? Date.now() - Date.parse(state.exact.time) : Infinity;
  if (age >= EXACT_REFRESH_MS) refreshExact();
  else if (!exactRequest) scheduleExact();
});

// ---------------------------------------------------------------- rendering

function render() {
  const source = state.view === 'exact' && state.exact ? 'exact' : 'live';
  const data = source === 'exact' ? state.exact : state.snapshot;
  if (!data) return renderNotes();
  const zone = state.live ? timeZoneOf(state.live.location) : 'UTC';
  chart.update(data.bodies);
  renderUpNow(data.bodies);
  // The table names the location its numbers are for: the snapshot's own, not the one we asked for.
  const locationId = source === 'live' && state.snapshot ? state.snapshot.location.id : undefined;
  table.update(data.bodies, { time: data.time, timeZone: zone, source, locationId });
  renderNotes();
  // Time to first sky, from navigation start: what a visitor waits for (read by the browser tests).
  if (performance.getEntriesByName('orrery:first-render').length === 0) performance.mark('orrery:first-render');
}

/** The bodies above the horizon, highest first: the answer to "what can I see right now?". @param {import('./js/api.js').BodyPosition[]} bodies */
function renderUpNow(bodies) {
  const up = bodies.filter((b) => b.aboveHorizon).sort((a, b) => b.alt - a.alt);
  const key = up.map((b) => `${b.name}${Math.round(b.alt)}`).join(',');
  if (ui.upNow.dataset.key === key) return;
  ui.upNow.dataset.key = key;
  if (up.length === 0) {
    ui.upNow.replaceChildren(Object.assign(document.createElement('li'), { className: 'empty', textContent: 'Nothing is above the horizon right now.' }));
    return;
  }
  ui.upNow.replaceChildren(
    ...up.map((b) => {
      const li = document.createElement('li');
      li.className = 'chip';
      li.dataset.body = b.name;
      li.style.setProperty('--body', BODY_STYLE[b.name].color);
      li.append(BODY_STYLE[b.name].label, ' ', Object.assign(document.createElement('span'), { className: 'alt', textContent: `${Math.round(b.alt)}°` }));
      return li;
    }),
  );
}

function renderNotes() {
  const live = state.live?.location;
  const exactWhere = state.observer ? formatLatLon(state.observer.lat, state.observer.lon) : '';
  const showingExact = state.view === 'exact' && state.exact;
  if (showingExact && state.observer) {
    ui.sourceNote.textContent = `Computed on demand for ${exactWhere}, ${Math.round(state.observer.elevation)} m, refreshed every minute.`;
    ui.chartSource.textContent = `Your spot · ${exactWhere}`;
  } else if (state.snapshot) {
    // Name the location the numbers on screen are for, which is the snapshot's, even mid-switch.
    const shown = state.snapshot.location;
    ui.sourceNote.textContent = `Streamed live for the grid location ${shown.name}; switch to “Your exact spot” for your own coordinates.`;
    ui.chartSource.textContent = `Live · ${shown.name}`;
  }
  const zone = live ? timeZoneOf(live) : 'UTC';
  const data = showingExact ? state.exact : state.snapshot;
  ui.tableFoot.textContent = data
    ? `Values for ${new Date(data.time).toISOString().replace('T', ' ').slice(0, 19)} UTC. Rise and set in ${zone} time; — means none in the next 24 hours.`
    : '';
}

function renderMeta() {
  const live = state.live;
  if (!live) return;
  const parts = [];
  if (state.observerSource === 'city') parts.push('Your chosen city');
  else if (state.observerSource === 'fallback') parts.push('Shown until you share or choose a location');
  else if (live.distanceKm < 0.5) parts.push('Right where you are');
  else parts.push(`${formatDistanceKm(live.distanceKm)} from you`);
  parts.push(timeZoneOf(live.location).replace(/_/g, ' '));
  ui.liveMeta.replaceChildren(
    parts.join(' · '),
    ' · ',
    Object.assign(document.createElement('span'), { id: 'local-clock', className: 'clock' }),
  );
  renderClock();
  const o = state.observer;
  const how = { geolocation: 'from your browser', typed: 'as typed', city: 'the city centre', fallback: 'a stand-in until you choose' }[state.observerSource];
  ui.observerNote.textContent = o ? `Your position: ${formatLatLon(o.lat, o.lon)}, ${Math.round(o.elevation)} m (${how}).` : '';
  ui.changeCurrent.textContent = live.location.name;
}

/** The location's local clock, from the tick time when streaming (the server's clock), else this device's. */
function renderClock() {
  const clock = document.getElementById('local-clock');
  if (!clock || !state.live) return;
  const when = state.snapshot ? new Date(state.snapshot.time) : new Date();
  clock.textContent = `${formatClock(when, timeZoneOf(state.live.location)).slice(0, 5)} local time`;
}

/** @param {Location} location */
const timeZoneOf = (location) => (isKnownTimeZone(location.timezone) ? location.timezone : 'UTC');

/** @type {Intl.DisplayNames | null | undefined} built once: it is slow to construct and used for every city */
let regionNames;
/** @type {Map<string, string>} */
const countryNames = new Map();

/** @param {string} code */
function countryName(code) {
  let name = countryNames.get(code);
  if (name === undefined) {
    name = lookUpCountry(code);
    countryNames.set(code, name);
  }
  return name;
}

/** @param {string} code */
function lookUpCountry(code) {
  if (regionNames === undefined) {
    try {
      regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
    } catch {
      regionNames = null;
    }
  }
  try {
    return regionNames?.of(code) ?? code;
  } catch {
    return code; // not a region code Intl knows
  }
}

/** @param {string} text @param {'info' | 'warn'} [tone] */
function notify(text, tone = 'info') {
  ui.notice.textContent = text;
  ui.notice.dataset.tone = tone;
  ui.notice.hidden = !text;
}

/** Server answers name the bad parameter; put the message next to that field when we can. @param {unknown} err @param {string} what */
function showServerError(err, what) {
  if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
    const field = /^(lat|lon|elevation)\b/.exec(err.message)?.[1];
    if (field) return setFieldError(/** @type {'lat' | 'lon' | 'elevation'} */ (field), err.message);
    return notify(`${what}: ${err.message}`, 'warn');
  }
  notify(`${what}. The server did not answer; retrying shortly.`, 'warn');
}

// ---------------------------------------------------------------- inputs

/** @param {Observer} o */
function fillInputs(o) {
  ui.lat.value = String(round(o.lat, 4));
  ui.lon.value = String(round(o.lon, 4));
  ui.elevation.value = String(Math.round(o.elevation));
}

/** @param {number} v @param {number} digits */
const round = (v, digits) => Math.round(v * 10 ** digits) / 10 ** digits;

/** @param {'lat' | 'lon' | 'elevation'} field @param {string} message */
function setFieldError(field, message) {
  const input = ui[field];
  const error = $(`${field}-error`);
  error.textContent = message;
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function clearFieldErrors() {
  for (const f of /** @type {const} */ (['lat', 'lon', 'elevation'])) setFieldError(f, '');
}

/** Validates all three fields; applies them only when all are good, so a typo never moves the sky. */
function applyTyped() {
  const lat = parseCoordinate(ui.lat.value, 'lat');
  const lon = parseCoordinate(ui.lon.value, 'lon');
  const elevation = parseElevation(ui.elevation.value);
  setFieldError('lat', lat.ok ? '' : lat.message);
  setFieldError('lon', lon.ok ? '' : lon.message);
  setFieldError('elevation', elevation.ok ? '' : elevation.message);
  if (!lat.ok || !lon.ok || !elevation.ok) return;
  const next = { lat: lat.value, lon: lon.value, elevation: elevation.value };
  const current = state.observer;
  if (current && current.lat === next.lat && current.lon === next.lon && current.elevation === next.elevation) return;
  notify('');
  void setObserver(next, 'typed');
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let typingTimer;
for (const input of [ui.lat, ui.lon, ui.elevation]) {
  input.addEventListener('input', () => {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(applyTyped, TYPING_PAUSE_MS);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    clearTimeout(typingTimer);
    applyTyped();
  });
}
ui.form.addEventListener('submit', (e) => e.preventDefault());

ui.city.addEventListener('change', () => {
  const location = state.locations.find((l) => l.id === ui.city.value);
  if (!location) return;
  notify('');
  void setObserver({ lat: location.lat, lon: location.lon, elevation: location.elevation }, 'city', location);
});

ui.reset.addEventListener('click', async () => {
  ui.reset.disabled = true;
  ui.reset.setAttribute('aria-busy', 'true');
  notify('Asking your browser for your location…');
  const fix = await locate();
  ui.reset.disabled = false;
  ui.reset.removeAttribute('aria-busy');
  if (fix.ok) {
    notify('');
    void setObserver({ lat: fix.lat, lon: fix.lon, elevation: Math.round(fix.elevation ?? 0) }, 'geolocation');
  } else {
    notify(`${fix.message} The sky stays where it was; choose a city or type coordinates.`, 'warn');
  }
});

for (const radio of document.querySelectorAll('input[name="source"]')) {
  radio.addEventListener('change', (e) => {
    state.view = /** @type {HTMLInputElement} */ (e.target).value === 'exact' ? 'exact' : 'live';
    document.body.dataset.view = state.view;
    render();
  });
}

/** Only an explicitly chosen city goes into the address, so a reload of a located page locates again. @param {string | null} id */
function syncUrl(id) {
  const url = new URL(window.location.href);
  if (id) url.searchParams.set('location', id);
  else url.searchParams.delete('location');
  if (url.href !== window.location.href) history.replaceState(null, '', url);
}

// ---------------------------------------------------------------- start-up

/** @param {() => void} fn */
function whenIdle(fn) {
  if ('requestIdleCallback' in window) requestIdleCallback(fn, { timeout: 700 });
  else setTimeout(fn, 100);
}

/** @param {Location[]} locations */
function fillCityPicker(locations) {
  const byRegion = new Map();
  for (const l of [...locations].sort((a, b) => a.name.localeCompare(b.name))) {
    const region = regionOf(l.timezone);
    if (!byRegion.has(region)) byRegion.set(region, []);
    byRegion.get(region).push(l);
  }
  const placeholder = new Option('Choose a city…', '');
  placeholder.disabled = true;
  ui.city.replaceChildren(placeholder);
  for (const region of [...byRegion.keys()].sort()) {
    const group = document.createElement('optgroup');
    group.label = region;
    for (const l of byRegion.get(region)) group.append(new Option(`${l.name}, ${countryName(l.country)}`, l.id));
    ui.city.append(group);
  }
  ui.city.disabled = false;
  ui.city.value = state.live?.location.id ?? '';
}

/** `Europe/London` → `Europe`; `America/Argentina/Salta` → `Americas`. @param {string} zone */
function regionOf(zone) {
  const area = zone.split('/')[0] ?? 'Other';
  return { America: 'Americas', Etc: 'Other', Indian: 'Indian Ocean', Atlantic: 'Atlantic', Pacific: 'Pacific' }[area] ?? area;
}

/** Without a position, prefer a city in the browser's own time zone, then whatever is nearest Greenwich. */
function fallbackObserver() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const sameZone = state.locations.find((l) => l.timezone === zone);
  if (sameZone) return { observer: { lat: sameZone.lat, lon: sameZone.lon, elevation: sameZone.elevation }, location: sameZone, why: `a city in your time zone (${zone.replace(/_/g, ' ')})` };
  return { observer: GREENWICH, location: undefined, why: 'Greenwich' };
}

async function start() {
  const requested = new URL(window.location.href).searchParams.get('location');
  // The city list is off the critical path: a located page can stream before the picker fills.
  const listed = fetchLocations().then(
    (locations) => {
      state.locations = locations;
      // Building ~200 options takes a noticeable slice of a slow phone's main thread: after the first sky.
      whenIdle(() => fillCityPicker(locations));
    },
    () => {
      // The page still works from geolocation and typed coordinates; only the picker is lost.
      ui.city.replaceChildren(new Option('Cities unavailable', ''));
    },
  );

  if (requested) {
    await listed;
    const location = state.locations.find((l) => l.id === requested);
    if (location) {
      foldLocationForm(true);
      void setObserver({ lat: location.lat, lon: location.lon, elevation: location.elevation }, 'city', location);
      return;
    }
    notify(`There is no live location called “${requested}”; showing where you are instead.`, 'warn');
  }

  const geo = locate();
  const grace = new Promise((resolve) => setTimeout(resolve, GEO_GRACE_MS, null));
  const first = await Promise.race([geo, grace]);
  if (!first) {
    // The browser is still asking the user: show a sky now, move it when the answer comes.
    await listed;
    const guess = fallbackObserver();
    if (!userChose()) {
      void setObserver(guess.observer, 'fallback', guess.location);
      notify(`Waiting for your location… meanwhile showing ${guess.why}.`);
    }
  }
  const fix = await geo;
  // A choice the user made while we waited wins over a late geolocation answer.
  if (userChose()) return;
  if (fix.ok) {
    notify('');
    foldLocationForm(true);
    void setObserver({ lat: fix.lat, lon: fix.lon, elevation: Math.round(fix.elevation ?? 0) }, 'geolocation');
  } else {
    foldLocationForm(false);
    await listed;
    const guess = fallbackObserver();
    if (first) void setObserver(guess.observer, 'fallback', guess.location);
    notify(`${fix.message} Showing ${guess.why}; choose a city or type your coordinates.`, 'warn');
  }
}

const userChose = () => state.observerSource === 'city' || state.observerSource === 'typed';

// On a phone the location form folds away once we know where the user is, so the sky comes first;
// it stays open when we had to guess. On wider screens it is always open (its summary is hidden).
const narrow = window.matchMedia('(max-width: 699px)');
/** @param {boolean} known */
function foldLocationForm(known) {
  ui.change.open = !narrow.matches || !known;
}
narrow.addEventListener('change', () => {
  if (!narrow.matches) ui.change.open = true;
});

document.body.dataset.view = state.view;
void start();
setInterval(renderClock, 15_000);
