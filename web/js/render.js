// Rendering: draws the store into the page (header status, where, up now, chart, table, notes). Reads state only;
// every input goes through the store.

import { BODY_STYLE } from './bodies.js';
import { SkyChart } from './chart.js';
import { formatClock, formatDistanceKm, formatLatLon } from './format.js';
import { countryName, usableZone } from './names.js';
import { BodyTable } from './table.js';

/**
 * @typedef {import('./store.js').Store} Store
 * @typedef {import('./store.js').State} State
 * @typedef {import('./api.js').BodyPosition} BodyPosition
 */

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const STATUS_WORDS = { idle: 'Not connected', connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };
const HOW = { geolocation: 'from your browser', typed: 'as typed', city: 'the city centre', fallback: 'a stand-in until you choose' };

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
    if (changed.has('live') || changed.has('observer') || changed.has('observerSource')) this.renderMeta(s);
    if (changed.has('snapshot') && s.snapshot) {
      this.ui.lastUpdate.dateTime = s.snapshot.time;
      this.ui.lastUpdate.textContent = formatClock(new Date(s.snapshot.time), usableZone(s.snapshot.location.timezone));
      this.ui.status.dataset.lastTime = s.snapshot.time;
      this.renderClock(s);
    }
    const sky = s.view === 'exact' && s.exact ? 'exact' : 'live';
    if (changed.has('view') || (sky === 'live' ? changed.has('snapshot') : changed.has('exact'))) this.renderSky(s);
    else if (changed.has('exact') || changed.has('snapshot')) this.renderNotes(s);
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
    this.ui.curlHint.textContent = `curl -N ${window.location.origin}/stream/${location.id}`;
  }

  /** @private @param {State} s */
  renderSky(s) {
    const source = s.view === 'exact' && s.exact ? 'exact' : 'live';
    const data = source === 'exact' ? s.exact : s.snapshot;
    if (!data) return this.renderNotes(s);
    const zone = s.live ? usableZone(s.live.location.timezone) : 'UTC';
    this.chart.update(data.bodies);
    this.renderUpNow(data.bodies);
    // The table names the location its numbers are for: the snapshot's own, not the one we asked for.
    const locationId = source === 'live' && s.snapshot ? s.snapshot.location.id : undefined;
    this.table.update(data.bodies, { time: data.time, timeZone: zone, source, locationId });
    this.renderNotes(s);
    // Time to first sky, from navigation start: what a visitor waits for (read by the browser tests).
    if (performance.getEntriesByName('orrery:first-render').length === 0) performance.mark('orrery:first-render');
  }

  /** The bodies above the horizon, highest first: the answer to "what can I see right now?". @private @param {BodyPosition[]} bodies */
  renderUpNow(bodies) {
    const upNow = this.ui.upNow;
    const up = bodies.filter((b) => b.aboveHorizon).sort((a, b) => b.alt - a.alt);
    const key = up.map((b) => `${b.name}${Math.round(b.alt)}`).join(',');
    if (upNow.dataset.key === key) return;
    upNow.dataset.key = key;
    if (up.length === 0) {
      upNow.replaceChildren(Object.assign(document.createElement('li'), { className: 'empty', textContent: 'Nothing is above the horizon right now.' }));
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
    const exactWhere = s.observer ? formatLatLon(s.observer.lat, s.observer.lon) : '';
    const showingExact = s.view === 'exact' && s.exact;
    if (showingExact && s.observer) {
      this.ui.sourceNote.textContent = `Computed on demand for ${exactWhere}, ${Math.round(s.observer.elevation)} m, refreshed every minute.`;
      this.ui.chartSource.textContent = `Your spot · ${exactWhere}`;
    } else if (s.snapshot) {
      // Name the location the numbers on screen are for, which is the snapshot's, even mid-switch.
      const shown = s.snapshot.location;
      this.ui.sourceNote.textContent = `Streamed live for the grid location ${shown.name}; switch to “Your exact spot” for your own coordinates.`;
      this.ui.chartSource.textContent = `Live · ${shown.name}`;
    }
    const zone = s.live ? usableZone(s.live.location.timezone) : 'UTC';
    const data = showingExact ? s.exact : s.snapshot;
    this.ui.tableFoot.textContent = data
      ? `Values for ${new Date(data.time).toISOString().replace('T', ' ').slice(0, 19)} UTC. Rise and set in ${zone} time; — means none in the next 24 hours.`
      : '';
  }

  /** @private @param {State} s */
  renderMeta(s) {
    const live = s.live;
    if (!live) return;
    const parts = [];
    if (s.observerSource === 'city') parts.push('Your chosen city');
    else if (s.observerSource === 'fallback') parts.push('Shown until you share or choose a location');
    else if (live.distanceKm < 0.5) parts.push('Right where you are');
    else parts.push(`${formatDistanceKm(live.distanceKm)} from you`);
    parts.push(usableZone(live.location.timezone).replace(/_/g, ' '));
    this.ui.liveMeta.replaceChildren(
      parts.join(' · '),
      ' · ',
      Object.assign(document.createElement('span'), { id: 'local-clock', className: 'clock' }),
    );
    this.renderClock(s);
    const o = s.observer;
    this.ui.observerNote.textContent = o ? `Your position: ${formatLatLon(o.lat, o.lon)}, ${Math.round(o.elevation)} m (${HOW[s.observerSource]}).` : '';
    this.ui.changeCurrent.textContent = live.location.name;
  }

  /** The location's local clock, from the tick time when streaming (the server's clock), else this device's. @private @param {State} s */
  renderClock(s) {
    const clock = document.getElementById('local-clock');
    if (!clock || !s.live) return;
    const when = s.snapshot ? new Date(s.snapshot.time) : new Date();
    clock.textContent = `${formatClock(when, usableZone(s.live.location.timezone)).slice(0, 5)} local time`;
  }
}
