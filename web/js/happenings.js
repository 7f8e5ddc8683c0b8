// The happenings feed: the calendar ahead for the observer (GET /events, next 24 h) with live countdowns; each
// happening the stream pushes shown the moment it arrives (a toast, and a browser notification for the kinds the
// reader opted in to); those replayed on a resume, which happened while the page was away, listed as missed.

import { fetchEvents, isAbort } from './api.js';
import { formatEventTime } from './format.js';
import { NOTIFY_GROUPS, countdown, happeningTitle, happeningWhere } from './happening-words.js';
import { usableZone } from './names.js';
import { zoneOf } from './store.js';

/**
 * @typedef {import('./store.js').Store} Store
 * @typedef {import('./store.js').State} State
 * @typedef {import('./api.js').Happening} Happening
 */

const DAY_MS = 86_400_000;
const SHOWN = 8;
/** A pushed happening older than this when it arrives was replayed by a resume: it happened while we were away. */
const REPLAY_AGE_MS = 90_000;
const TOAST_MS = 10_000;
const KINDS = ['rise', 'set', 'dusk', 'dawn', 'phase', 'eclipse', 'opposition', 'conjunction', 'elongation', 'approach'];
/** Rises and sets worth a line: what an eye can find (Uranus to Pluto rise and set unseen). */
const EYE_BODIES = new Set(['sun', 'moon', 'mercury', 'venus', 'mars', 'jupiter', 'saturn']);
const NOTIFY_KEY = 'orrery:notify';
/** The list drops what has passed once a minute; the calendar is asked again when it runs short. */
const RELIST_MS = 60_000;

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @param {Happening} h */
const worthListing = (h) => (h.kind !== 'rise' && h.kind !== 'set') || EYE_BODIES.has(h.body ?? '');

export class HappeningsFeed {
  /** @param {Store} store */
  constructor(store) {
    this.store = store;
    this.list = $('happenings');
    this.missedBox = $('missed');
    this.missedList = $('missed-list');
    this.toasts = $('toasts');
    /** @type {AbortController | null} */
    this.request = null;
    /** @type {import('./store.js').Observer | null} the observer the calendar was asked for */
    this.loadedFor = null;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.ticker = undefined;
    this.notifyBox = /** @type {HTMLFieldSetElement} */ ($('notify'));
    this.notifyNote = $('notify-note');
    this.setUpNotifications();
    $('missed-clear').addEventListener('click', () => store.set({ missed: [] }));

    store.subscribe((s, changed) => {
      if (changed.has('observer') || this.loadedFor !== s.observer) this.loadWhenDrawn(s);
      if (changed.has('happenings') || changed.has('timeZone')) this.renderList(s);
      if (changed.has('missed')) this.renderMissed(s);
    });
    document.addEventListener('visibilitychange', () => this.tick());
    this.tick();
    this.loadWhenDrawn(store.state);
  }

  /** After the first sky is drawn: the calendar costs the server more than the stream's first snapshot does. @private @param {State} s */
  loadWhenDrawn(s) {
    const drawn = s.snapshot !== null || s.spot !== null || s.exact !== null;
    if (drawn && s.observer && this.loadedFor !== s.observer) this.load();
  }

  /** The calendar for the next day at the observer. */
  load() {
    const observer = this.store.state.observer;
    if (!observer) return;
    this.loadedFor = observer;
    this.request?.abort();
    const controller = new AbortController();
    this.request = controller;
    const now = new Date();
    fetchEvents(observer, now, new Date(now.getTime() + DAY_MS), KINDS, controller.signal)
      .then((answer) => {
        if (this.request === controller) this.store.set({ happenings: answer.events.filter(worthListing) });
      })
      .catch((err) => {
        if (isAbort(err) || this.request !== controller) return;
        // Asked again with the first snapshot half a minute from now.
        setTimeout(() => {
          if (this.request === controller) this.loadedFor = null;
        }, 30_000);
        this.list.replaceChildren(Object.assign(document.createElement('li'), { className: 'empty', textContent: 'The calendar could not be loaded; it is tried again shortly.' }));
      });
  }

  /**
   * A happening from the stream: shown at once, or filed as missed when it is a replay from before we came back.
   * @param {Happening} h
   */
  pushed(h) {
    const s = this.store.state;
    const age = Date.now() - Date.parse(h.time);
    if (age > REPLAY_AGE_MS) {
      if (!s.missed.some((m) => m.time === h.time && m.kind === h.kind)) this.store.set({ missed: [...s.missed, h].slice(-30) });
      return;
    }
    this.toast(h, usableZone(zoneOf(s)));
    this.notify(h);
  }

  /** @private @param {Happening} h @param {string} zone */
  toast(h, zone) {
    const li = document.createElement('li');
    li.className = 'toast';
    li.dataset.kind = h.kind;
    const where = happeningWhere(h);
    const strong = Object.assign(document.createElement('strong'), { textContent: happeningTitle(h) });
    const when = formatEventTime(h.time, zone, new Date());
    li.append(strong, ` · ${when}${where ? ` · ${where}` : ''}`);
    const close = Object.assign(document.createElement('button'), { type: 'button', className: 'toast-close', textContent: '×' });
    close.setAttribute('aria-label', 'Dismiss');
    close.addEventListener('click', () => li.remove());
    li.append(close);
    this.toasts.prepend(li);
    while (this.toasts.children.length > 4) this.toasts.lastElementChild?.remove();
    setTimeout(() => li.remove(), TOAST_MS);
  }

  /** @private @param {Happening} h */
  notify(h) {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    const groups = chosenGroups();
    const wanted = Object.entries(NOTIFY_GROUPS).some(([g, def]) => groups.includes(g) && /** @type {readonly string[]} */ (def.kinds).includes(h.kind));
    if (!wanted) return;
    try {
      new Notification(happeningTitle(h), { body: happeningWhere(h), tag: `${h.kind}-${h.time}`, icon: 'icons/icon-192.png' });
    } catch {
      // Some browsers allow notifications only from a service worker; the toast has shown it anyway.
    }
  }

  /** @private */
  setUpNotifications() {
    const supported = 'Notification' in window;
    const chosen = chosenGroups();
    for (const box of this.notifyBox.querySelectorAll('input[type=checkbox]')) {
      const input = /** @type {HTMLInputElement} */ (box);
      input.checked = chosen.includes(input.value);
      input.disabled = !supported;
      input.addEventListener('change', async () => {
        const groups = [...this.notifyBox.querySelectorAll('input:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value);
        localStorage.setItem(NOTIFY_KEY, JSON.stringify(groups));
        if (input.checked && Notification.permission === 'default') await Notification.requestPermission();
        this.renderNotifyNote();
      });
    }
    this.renderNotifyNote();
  }

  /** @private */
  renderNotifyNote() {
    if (!('Notification' in window)) {
      this.notifyNote.textContent = 'This browser cannot show notifications; happenings still appear on the page.';
      return;
    }
    const any = chosenGroups().length > 0;
    this.notifyNote.textContent =
      Notification.permission === 'denied' && any
        ? 'Notifications are blocked for this site in the browser settings; happenings still appear on the page.'
        : any && Notification.permission === 'granted'
          ? 'You will be notified of the kinds ticked, while this page is open.'
          : '';
  }

  /** @private @param {State} s */
  renderList(s) {
    const zone = usableZone(zoneOf(s));
    const now = Date.now();
    const ahead = s.happenings.filter((h) => Date.parse(h.time) > now - 60_000).slice(0, SHOWN);
    if (ahead.length === 0) {
      this.list.replaceChildren(Object.assign(document.createElement('li'), { className: 'empty', textContent: 'Nothing in the next 24 hours.' }));
      return;
    }
    this.list.replaceChildren(
      ...ahead.map((h) => {
        const li = document.createElement('li');
        li.dataset.kind = h.kind;
        li.dataset.time = h.time;
        const title = happeningTitle(h);
        const cd = Object.assign(document.createElement('span'), { className: 'countdown' });
        cd.dataset.at = String(Date.parse(h.time));
        const time = Object.assign(document.createElement('time'), { dateTime: h.time, textContent: formatEventTime(h.time, zone, new Date(now)) });
        const where = happeningWhere(h);
        li.append(Object.assign(document.createElement('strong'), { textContent: title }), ' ', cd, Object.assign(document.createElement('span'), { className: 'when', textContent: '' }));
        /** @type {HTMLElement} */ (li.lastChild).append(time, where ? ` · ${where}` : '');
        return li;
      }),
    );
    this.tick();
  }

  /** @private @param {State} s */
  renderMissed(s) {
    this.missedBox.hidden = s.missed.length === 0;
    const zone = usableZone(zoneOf(s));
    this.missedList.replaceChildren(
      ...s.missed.map((h) => {
        const li = document.createElement('li');
        li.dataset.kind = h.kind;
        li.textContent = `${happeningTitle(h)} · ${formatEventTime(h.time, zone, new Date())}`;
        return li;
      }),
    );
  }

  /** Countdowns move once a second while the page is visible; a hidden page runs no timer. @private */
  tick() {
    clearInterval(this.ticker);
    if (document.visibilityState !== 'visible') return;
    let relisted = Date.now();
    const update = () => {
      const now = Date.now();
      if (now - relisted >= RELIST_MS) {
        relisted = now;
        const s = this.store.state;
        const ahead = s.happenings.filter((h) => Date.parse(h.time) > now).length;
        if (ahead < SHOWN) this.load();
        else this.renderList(s);
        return;
      }
      for (const cd of this.list.querySelectorAll('.countdown')) {
        const text = countdown(Number(/** @type {HTMLElement} */ (cd).dataset.at), now);
        if (cd.textContent !== text) cd.textContent = text;
      }
    };
    update();
    this.ticker = setInterval(update, 1000);
  }
}

/** @returns {string[]} */
function chosenGroups() {
  try {
    const v = JSON.parse(localStorage.getItem(NOTIFY_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
