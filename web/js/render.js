// Rendering: draws the store into the page (header status, where, up now, chart, table, notes). Reads state only;
// every input goes through the store.

import { spotStreamPath } from './api.js';
import { BODY_STYLE } from './bodies.js';
import { SkyChart } from './chart.js';
import { formatClock, formatDistanceKm, formatLatLon } from './format.js';
import { countryName, usableZone } from './names.js';
import { shownSky, zoneOf } from './store.js';
import { BodyTable } from './table.js';
import { visibleNow } from './visibility.js';

/**
 * @typedef {import('./store.js').Store} Store
 * @typedef {import('./store.js').State} State
 * @typedef {import('./api.js').BodyPosition} BodyPosition
 */

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const STATUS_WORDS = { idle: 'Not connected', connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };
const HOW = { geolocation: 'from your browser', typed: 'as typed', city: 'the city centre', place: 'found by name', fallback: 'a stand-in until you choose' };
/** What the sky on screen depends on: a change to any of these redraws it. @type {(keyof State)[]} */
const SKY_INPUTS = ['snapshot', 'spot', 'exact', 'view', 'travel', 'travelSky', 'timeZone'];

export class Renderer {
  /** @param {Store} store */
  constructor(store) {
    this.store = store;
    this.ui = {
      status: $('status'),
      statusText: $('status-text'),
      lastUpdate: /** @type {HTMLTimeElement} */ ($('last-update')),
      liveLocation: $('live-location'),
      liveMeta: $('live-meta'),
      observerNote: $('observer-note'),
      upNow: $('up-now'),
      upNowTitle: $('up-now-title'),
      changeCurrent: $('change-current'),
      notice: $('notice'),
      sourceNote: $('source-note'),
      chartSource: $('chart-source'),
      tableFoot: $('table-foot'),
      curlHint: $('curl-hint'),
    };
    this.chart = new SkyChart(/** @type {SVGSVGElement} */ (/** @type {unknown} */ ($('sky'))));
    this.table = new BodyTable(/** @type {HTMLTableElement} */ ($('bodies')));
    store.subscribe((state, changed) => this.render(state, changed));
    document.body.dataset.view = store.state.view;
    // The local clock moves on between ticks only when not streaming; a quarter minute is fine for hh:mm.
    setInterval(() => this.renderClock(this.store.state), 15_000);
  }

  /** @param {State} s @param {ReadonlySet<keyof State>} changed */
  render(s, changed) {
    if (changed.has('stream')) this.renderStatus(s);
    if (changed.has('notice')) this.renderNotice(s);
    if (changed.has('pending')) {
      if (s.pending) document.body.dataset.pending = 'true';
      else delete document.body.dataset.pending;
    }
    if (changed.has('view')) document.body.dataset.view = s.view;
    if (changed.has('live')) this.renderWhere(s);
    if (['live', 'observer', 'observerSource', 'placeName', 'timeZone'].some((k) => changed.has(/** @type {keyof State} */ (k)))) this.renderMeta(s);
    const streamed = s.view === 'exact' && s.spot ? s.spot : s.snapshot;
    if ((changed.has('snapshot') || changed.has('spot')) && streamed) {
      this.ui.lastUpdate.dateTime = streamed.time;
      this.ui.lastUpdate.textContent = formatClock(new Date(streamed.time), usableZone(zoneOf(s)));
      this.ui.status.dataset.lastTime = streamed.time;
      this.renderClock(s);
    }
    if (SKY_INPUTS.some((k) => changed.has(k))) this.renderSky(s);
    if (changed.has('live') || changed.has('view') || changed.has('spot')) this.renderCurlHint(s);
  }

  /** The same stream from a terminal: the spot's when the spot is streamed, else the grid location's. @private @param {State} s */
  renderCurlHint(s) {
    const path = s.view === 'exact' && s.spot && s.observer ? spotStreamPath(s.observer) : s.live ? `/stream/${s.live.location.id}` : null;
    if (path) this.ui.curlHint.textContent = `curl -N "${window.location.origin}${path}"`;
  }

  /** @private @param {State} s */
  renderStatus(s) {
    const words = STATUS_WORDS[s.stream.state];
    this.ui.status.dataset.state = s.stream.state;
    this.ui.statusText.textContent = words;
    this.ui.status.title = s.stream.detail || words;
  }

  /** @private @param {State} s */
  renderNotice(s) {
    this.ui.notice.textContent = s.notice.text;
    this.ui.notice.dataset.tone = s.notice.tone;
    this.ui.notice.hidden = !s.notice.text;
  }

  /** @private @param {State} s */
  renderWhere(s) {
    if (!s.live) return;
    const { location } = s.live;
    this.ui.liveLocation.dataset.locationId = location.id;
    this.ui.liveLocation.replaceChildren(
      location.name,
      Object.assign(document.createElement('span'), { className: 'country', textContent: `, ${countryName(location.country)}` }),
    );
  }

  /** @private @param {State} s */
  renderSky(s) {
    const shown = shownSky(s);
    if (!shown) return this.renderNotes(s);
    const { data, kind, observer } = shown;
    const zone = usableZone(zoneOf(s));
    this.chart.update(data.bodies, { time: data.time, lat: observer.lat, lon: observer.lon });
    this.renderUpNow(data.bodies, kind === 'travel');
    // The table names the location its numbers are for: the snapshot's own, not the one we asked for.
    const locationId = kind === 'live' && s.snapshot ? s.snapshot.location.id : undefined;
    this.table.update(data.bodies, { time: data.time, timeZone: zone, source: kind, locationId });
    this.renderNotes(s);
    // Time to first sky, from navigation start: what a visitor waits for (read by the browser tests).
    if (performance.getEntriesByName('orrery:first-render').length === 0) performance.mark('orrery:first-render');
  }

  /**
   * What can be seen, highest first: the answer to "what can I see right now?" (or then, when travelling).
   * @private @param {BodyPosition[]} bodies @param {boolean} travelling
   */
  renderUpNow(bodies, travelling) {
    const upNow = this.ui.upNow;
    const { visible: up, why } = visibleNow(bodies);
    const key = `${travelling}|${up.map((b) => `${b.name}${Math.round(b.alt)}`).join(',')}|${why}`;
    if (upNow.dataset.key === key) return;
    upNow.dataset.key = key;
    this.ui.upNowTitle.textContent = travelling ? 'Visible then' : 'Visible now';
    if (up.length === 0) {
      upNow.replaceChildren(Object.assign(document.createElement('li'), { className: 'empty', textContent: why }));
      return;
    }
    upNow.replaceChildren(
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

  /** @private @param {State} s */
  renderNotes(s) {
    const shown = shownSky(s);
    const zone = usableZone(zoneOf(s));
    if (!shown) return;
    const where = formatLatLon(shown.observer.lat, shown.observer.lon);
    if (shown.kind === 'travel') {
      this.ui.sourceNote.textContent = `Computed on demand for ${where} at ${formatClock(new Date(shown.data.time), zone).slice(0, 5)} ${zone.replace(/_/g, ' ')} time; “Back to live” returns to now.`;
      this.ui.chartSource.textContent = `Time travel · ${where}`;
    } else if (shown.kind === 'exact') {
      const how = s.spot?.observer ? 'Streamed live' : 'Computed on demand, refreshed every minute,';
      this.ui.sourceNote.textContent = `${how} for ${where}, ${Math.round(shown.observer.elevation)} m.`;
      this.ui.chartSource.textContent = `Your spot · ${where}`;
    } else if (s.snapshot) {
      // Name the location the numbers on screen are for, which is the snapshot's, even mid-switch.
      const name = s.snapshot.location.name;
      this.ui.sourceNote.textContent = `Streamed live for the grid location ${name}; switch to “Your exact spot” for your own coordinates.`;
      this.ui.chartSource.textContent = `Live · ${name}`;
    }
    this.ui.tableFoot.textContent = `Values for ${new Date(shown.data.time).toISOString().replace('T', ' ').slice(0, 19)} UTC. Rise and set in ${zone.replace(/_/g, ' ')} time; — means none in the next 24 hours.`;
  }

  /** @private @param {State} s */
  renderMeta(s) {
    const live = s.live;
    if (!live) return;
    const parts = [];
    if (s.observerSource === 'city') parts.push('Your chosen city');
    else if (s.observerSource === 'place' && s.placeName) parts.push(`Nearest live city to ${s.placeName}, ${formatDistanceKm(live.distanceKm)} away`);
    else if (s.observerSource === 'fallback') parts.push('Shown until you share or choose a location');
    else if (live.distanceKm < 0.5) parts.push('Right where you are');
    else parts.push(`${formatDistanceKm(live.distanceKm)} from you`);
    parts.push(`${usableZone(zoneOf(s)).replace(/_/g, ' ')} time`);
    this.ui.liveMeta.replaceChildren(
      parts.join(' · '),
      ' · ',
      Object.assign(document.createElement('span'), { id: 'local-clock', className: 'clock' }),
    );
    this.renderClock(s);
    const o = s.observer;
    const named = s.observerSource === 'place' && s.placeName ? `${s.placeName}, ` : '';
    this.ui.observerNote.textContent = o ? `Your position: ${named}${formatLatLon(o.lat, o.lon)}, ${Math.round(o.elevation)} m (${HOW[s.observerSource]}).` : '';
    this.ui.changeCurrent.textContent = live.location.name;
  }

  /** The observer's local clock, from the tick time when streaming (the server's clock), else this device's. @private @param {State} s */
  renderClock(s) {
    const clock = document.getElementById('local-clock');
    if (!clock || !s.live) return;
    const when = s.snapshot ? new Date(s.snapshot.time) : new Date();
    clock.textContent = `${formatClock(when, usableZone(zoneOf(s))).slice(0, 5)} local time`;
  }
}
