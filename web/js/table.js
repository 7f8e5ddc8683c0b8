// The positions table: one row per body, built once and then only its cell texts change, so screen
// readers and text selection are not disturbed by a rebuild every second.

import { BODY_NAMES, BODY_STYLE, constellationName } from './bodies.js';
import { compassPoint, formatDec, formatEventTime, formatMagnitude, formatNumber, formatRA } from './format.js';

/** @typedef {import('./api.js').BodyPosition} BodyPosition */

const COLUMNS = /** @type {const} */ (['az', 'alt', 'radec', 'mag', 'const', 'rise', 'set', 'horizon']);

export class BodyTable {
  /** @param {HTMLTableElement} table */
  constructor(table) {
    this.table = table;
    const tbody = /** @type {HTMLTableSectionElement} */ (table.tBodies[0]);
    /** @type {Map<string, Record<string, HTMLElement>>} */
    this.rows = new Map();
    for (const name of BODY_NAMES) {
      const style = BODY_STYLE[name];
      const tr = tbody.insertRow();
      tr.dataset.body = name;
      tr.style.setProperty('--body', style.color);
      const th = document.createElement('th');
      th.scope = 'row';
      th.dataset.col = 'name';
      th.innerHTML = `<span class="swatch" aria-hidden="true"></span><span class="symbol" aria-hidden="true">${style.symbol}</span> ${style.label}`;
      tr.appendChild(th);
      /** @type {Record<string, HTMLElement>} */
      const cells = {};
      for (const col of COLUMNS) {
        const td = tr.insertCell();
        td.dataset.col = col;
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
   * @param {{ time: string, timeZone: string, source: 'live' | 'exact', locationId?: string }} meta
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
      set(cells.rise, formatEventTime(b.rise, meta.timeZone, now));
      set(cells.set, formatEventTime(b.set, meta.timeZone, now));
      for (const key of /** @type {const} */ (['rise', 'set'])) {
        const value = b[key];
        cells[key].title = value ? new Date(value).toISOString() : `no ${key} within 24 hours`;
      }
      const horizon = b.aboveHorizon ? 'Above' : 'Below';
      if (cells.horizon.dataset.state !== horizon.toLowerCase()) {
        cells.horizon.dataset.state = horizon.toLowerCase();
        cells.horizon.innerHTML = `<span class="badge">${b.aboveHorizon ? '▲' : '▼'} ${horizon}</span>`;
      }
      const row = /** @type {HTMLElement} */ (cells.az.parentElement);
      row.classList.toggle('is-below', !b.aboveHorizon);
      row.dataset.above = String(b.aboveHorizon);
    }
    this.table.dataset.time = meta.time;
    this.table.dataset.source = meta.source;
    this.table.dataset.filled = 'true';
  }
}

/** Writes text only when it changed, with an optional small second part. @param {HTMLElement} cell @param {string} text @param {string} [extra] */
function set(cell, text, extra) {
  const key = extra ? `${text}|${extra}` : text;
  if (cell.dataset.value === key) return;
  cell.dataset.value = key;
  if (extra) {
    cell.innerHTML = '';
    cell.append(text, Object.assign(document.createElement('span'), { className: 'sub', textContent: ` ${extra}` }));
  } else {
    cell.textContent = text;
  }
}

/** @param {HTMLElement} cell @param {string} ra @param {string} dec */
function setRaDec(cell, ra, dec) {
  const key = `${ra}|${dec}`;
  if (cell.dataset.value === key) return;
  cell.dataset.value = key;
  cell.innerHTML = '';
  cell.append(
    Object.assign(document.createElement('span'), { className: 'ra', textContent: ra }),
    Object.assign(document.createElement('span'), { className: 'dec', textContent: dec }),
  );
}
