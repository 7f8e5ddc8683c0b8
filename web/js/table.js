// The positions table: one row per body, built once and then only its cell texts change, so screen
// readers and text selection are not disturbed by a rebuild every second.

import { BODY_NAMES, BODY_STYLE, constellationName } from './bodies.js';
import { compassPoint, formatDec, formatEventTime, formatMagnitude, formatNumber, formatRA } from './format.js';

/** @typedef {import('./api.js').BodyPosition} BodyPosition */

const COLUMNS = /** @type {const} */ (['az', 'alt', 'radec', 'mag', 'const', 'riseset', 'horizon']);

export class BodyTable {
  /** @param {HTMLTableElement} table */
  constructor(table) {
    this.table = table;
    const tbody = /** @type {HTMLTableSectionElement} */ (table.tBodies[0]);
    // Explicit roles: the phone layout restyles rows as grids, and some browsers then drop table semantics.
    table.setAttribute('role', 'table');
    for (const group of [table.tHead, tbody]) group?.setAttribute('role', 'rowgroup');
    table.tHead?.rows[0]?.setAttribute('role', 'row');
    for (const th of table.tHead?.querySelectorAll('th') ?? []) th.setAttribute('role', 'columnheader');
    /** @type {Map<string, Record<string, HTMLElement>>} */
    this.rows = new Map();
    for (const name of BODY_NAMES) {
      const style = BODY_STYLE[name];
      const tr = tbody.insertRow();
      tr.dataset.body = name;
      tr.setAttribute('role', 'row');
      tr.style.setProperty('--body', style.color);
      const th = document.createElement('th');
      th.scope = 'row';
      th.dataset.col = 'name';
      th.setAttribute('role', 'rowheader');
      th.innerHTML = `<span class="swatch" aria-hidden="true"></span><span class="symbol" aria-hidden="true">${style.symbol}</span> ${style.label}`;
      tr.appendChild(th);
      /** @type {Record<string, HTMLElement>} */
      const cells = {};
      for (const col of COLUMNS) {
        const td = tr.insertCell();
        td.dataset.col = col;
        td.setAttribute('role', 'cell');
        const headerCell = table.querySelector(`thead [data-col="${col}"]`);
        // The phone layout turns rows into cards and shows each cell's heading beside it.
        td.dataset.label = headerCell?.getAttribute('data-short') ?? headerCell?.textContent?.trim() ?? col;
        td.textContent = '…';
        cells[col] = td;
      }
      this.rows.set(name, cells);
    }
  }

  /**
   * @param {BodyPosition[]} bodies
   * @param {{ time: string, timeZone: string, source: 'live' | 'exact' | 'travel', locationId?: string }} meta
   */
  update(bodies, meta) {
    const now = new Date(meta.time);
    for (const b of bodies) {
      const cells = this.rows.get(b.name);
      if (!cells) continue;
      set(cells.az, `${formatNumber(b.az, 2)}°`, compassPoint(b.az));
      set(cells.alt, `${formatNumber(b.alt, 2)}°`);
      setRaDec(cells.radec, formatRA(b.ra), formatDec(b.dec));
      set(cells.mag, formatMagnitude(b.magnitude));
      set(cells.const, constellationName(b.constellation));
      cells.const.title = b.constellation;
      setRiseSet(cells.riseset, formatEventTime(b.rise, meta.timeZone, now), formatEventTime(b.set, meta.timeZone, now));
      const horizon = b.aboveHorizon ? 'Above' : 'Below';
      if (cells.horizon.dataset.state !== horizon.toLowerCase()) {
        cells.horizon.dataset.state = horizon.toLowerCase();
        cells.horizon.replaceChildren(span('badge', `${b.aboveHorizon ? '▲' : '▼'} ${horizon}`));
      }
      const row = /** @type {HTMLElement} */ (cells.az.parentElement);
      row.classList.toggle('is-below', !b.aboveHorizon);
      row.dataset.above = String(b.aboveHorizon);
    }
    this.table.dataset.time = meta.time;
    this.table.dataset.source = meta.source;
    if (meta.locationId) this.table.dataset.locationId = meta.locationId;
    else delete this.table.dataset.locationId;
    this.table.dataset.filled = 'true';
  }
}

/** Writes text only when it changed, with an optional small second part. @param {HTMLElement} cell @param {string} text @param {string} [extra] */
function set(cell, text, extra) {
  const key = extra ? `${text}|${extra}` : text;
  if (cell.dataset.value === key) return;
  cell.dataset.value = key;
  if (extra) {
    cell.replaceChildren(text, span('sub', ` ${extra}`));
  } else {
    cell.textContent = text;
  }
}

/** @param {HTMLElement} cell @param {string} ra @param {string} dec */
function setRaDec(cell, ra, dec) {
  const key = `${ra}|${dec}`;
  if (cell.dataset.value === key) return;
  cell.dataset.value = key;
  cell.replaceChildren(span('ra', ra), span('dec', dec));
}

/** Next rise above next set, each with an arrow for the eye and a word for screen readers. @param {HTMLElement} cell @param {string} rise @param {string} set */
function setRiseSet(cell, rise, set) {
  const key = `${rise}|${set}`;
  if (cell.dataset.value === key) return;
  cell.dataset.value = key;
  const line = (/** @type {'rise' | 'set'} */ kind, /** @type {string} */ text) => {
    const el = span(kind, '');
    el.dataset.col = kind;
    el.append(
      hidden(span('arrow', kind === 'rise' ? '↑' : '↓')),
      span('visually-hidden', kind === 'rise' ? 'rises ' : 'sets '),
      text === '—' ? Object.assign(span('none', '—'), { title: `no ${kind} in the next 24 hours` }) : text,
    );
    return el;
  };
  cell.replaceChildren(line('rise', rise), line('set', set));
}

/** @param {HTMLElement} el */
const hidden = (el) => (el.setAttribute('aria-hidden', 'true'), el);

/** @param {string} className @param {string} text */
const span = (className, text) => Object.assign(document.createElement('span'), { className, textContent: text });
