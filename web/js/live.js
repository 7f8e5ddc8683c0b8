// One live stream at a time: an EventSource on a grid location (/stream/<id>) or an exact spot
// (/stream?lat=&lon=&elevation=), its connection state, and recovery. Switching target closes the old one first,
// so the page never holds two connections. Streams are opened with ?format=delta (docs/api.md, "Stream formats"):
// the whole snapshot first, then per tick only what changed at the precision the page shows, about a tenth of the bytes.
//
// EventSource reconnects by itself after a network error and sends Last-Event-ID, so the server
// replays what we missed. It gives up for good only when a response is not a stream (a 502 from a
// proxy while the API restarts, say); then we open a new one ourselves with ?lastEventId= (a new
// EventSource cannot be given the header), backing off so a dead server is not hammered.

import { applyFrame } from './stream-format.js';

/** @typedef {'idle' | 'connecting' | 'live' | 'reconnecting'} StreamState */
/** @typedef {import('./api.js').Snapshot} Snapshot */
/** @typedef {import('./api.js').Happening} Happening */
/**
 * What to stream: `key` names it (the same key again is left alone), `path` is the stream URL without a resume point.
 * @typedef {{ key: string, path: string, kind: 'grid' | 'spot' }} Target
 */

const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
/**
 * Heartbeats are comments, invisible to EventSource, so silence is judged by updates alone: this long,
 * or three tick intervals if the server ticks slower, means a dead connection that nobody closed.
 */
const STALL_MS = 30_000;

export class LiveStream {
  /**
   * @param {{
   *   onSnapshot: (s: Snapshot, target: Target) => void,
   *   onState: (state: StreamState, detail: string) => void,
   *   onHappening?: (h: Happening, target: Target) => void,
   *   onResume?: (recovered: boolean) => void,
   *   onRefused?: (target: Target) => void,
   * }} handlers
   *   onHappening: an `event: sky-event`, live or replayed on resume; onResume: the server's word on a resume;
   *   onRefused: the stream was refused before it ever delivered (a server without spot streams answers 4xx)
   */
  constructor(handlers) {
    this.handlers = handlers;
    /** @type {EventSource | null} */
    this.source = null;
    /** @type {Target | null} */
    this.target = null;
    /** whether the current target has delivered at least once (a refusal after that is an outage, not a no) */
    this.delivered = false;
    /** @type {string} */
    this.lastEventId = '';
    /** @type {StreamState} */
    this.state = 'idle';
    this.failures = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.retryTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.stallTimer = undefined;
    /** @type {number} ms between the last two updates, to scale the stall watchdog to the server's tick */
    this.interval = 0;
    this.lastUpdateAt = 0;
    /** @type {Snapshot | null} newest snapshot not yet handed over; one render per frame however many arrive */
    this.pending = null;
    this.frameRequested = false;
  }

  /** The grid location's id, when streaming one. */
  get locationId() {
    return this.target?.kind === 'grid' ? this.target.key : null;
  }

  /** Streams `target`; a different one starts afresh, the same one is left alone. @param {Target} target */
  open(target) {
    if (target.key === this.target?.key && (this.source || this.retryTimer)) return;
    this.close();
    this.target = target;
    this.delivered = false;
    this.lastEventId = '';
    this.failures = 0;
    this.interval = 0;
    this.lastUpdateAt = 0;
    this.connect();
  }

  close() {
    clearTimeout(this.retryTimer);
    clearTimeout(this.stallTimer);
    this.source?.close();
    this.source = null;
    this.retryTimer = undefined;
    this.target = null;
    this.pending = null;
    this.setState('idle', '');
  }

  /** @private */
  connect() {
    const target = this.target;
    if (!target) return;
    const resume = this.lastEventId ? `&lastEventId=${encodeURIComponent(this.lastEventId)}` : '';
    const source = new EventSource(`${target.path}${target.path.includes('?') ? '&' : '?'}format=delta${resume}`);
    // What this connection's frames add up to: an `update` replaces it, a `delta` changes it (stream-format.js).
    /** @type {import('./stream-format.js').Picture | null} */
    let picture = null;
    this.source = source;
    this.setState(this.lastEventId ? 'reconnecting' : 'connecting', '');

    source.addEventListener('open', () => {
      if (this.source !== source) return;
      this.armStallTimer();
    });
    /** @param {Event} event */
    const onFrame = (event) => {
      if (this.source !== source) return;
      const message = /** @type {MessageEvent<string>} */ (event);
      try {
        picture = applyFrame(picture, message.type, message.data);
      } catch {
        return; // A frame we cannot read (the server writes only JSON: a broken proxy) is skipped.
      }
      const snapshot = /** @type {Snapshot | null} */ (/** @type {unknown} */ (picture));
      if (!Array.isArray(snapshot?.bodies)) return;
      if (target.kind === 'grid' && snapshot.location?.id !== target.key) return;
      this.delivered = true;
      if (message.lastEventId) this.lastEventId = message.lastEventId;
      const now = performance.now();
      if (this.lastUpdateAt) this.interval = now - this.lastUpdateAt;
      this.lastUpdateAt = now;
      this.failures = 0;
      this.setState('live', '');
      this.armStallTimer();
      this.deliver(snapshot);
    };
    source.addEventListener('update', onFrame);
    source.addEventListener('delta', onFrame);
    source.addEventListener('sky-event', (event) => {
      if (this.source !== source) return;
      const message = /** @type {MessageEvent<string>} */ (event);
      try {
        const happening = JSON.parse(message.data);
        if (message.lastEventId) this.lastEventId = message.lastEventId;
        if (typeof happening?.kind === 'string' && typeof happening.time === 'string') this.handlers.onHappening?.(happening, target);
      } catch {
        // an unreadable frame is skipped
      }
    });
    source.addEventListener('resume', (event) => {
      if (this.source !== source) return;
      try {
        this.handlers.onResume?.(JSON.parse(/** @type {MessageEvent<string>} */ (event).data)?.recovered !== false);
      } catch {
        // ignored: the snapshots that follow say enough
      }
    });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      clearTimeout(this.stallTimer);
      if (source.readyState === EventSource.CLOSED) {
        if (target.kind === 'spot' && !this.delivered && this.handlers.onRefused && navigator.onLine) {
          // Never delivered and refused at once: this server has no such stream (an older one without spot streams).
          source.close();
          this.source = null;
          return this.handlers.onRefused(target);
        }
        this.retryLater('The stream was refused; trying again');
      } else {
        // The browser is already reconnecting with Last-Event-ID after the server's `retry:` delay.
        this.setState('reconnecting', 'Connection lost; reconnecting');
      }
    });
  }

  /** @private @param {string} detail */
  retryLater(detail) {
    this.source?.close();
    this.source = null;
    const delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)] ?? 15000;
    this.failures += 1;
    this.setState('reconnecting', `${detail} in ${Math.round(delay / 1000)} s`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** @private */
  armStallTimer() {
    clearTimeout(this.stallTimer);
    const limit = Math.max(STALL_MS, 3 * this.interval);
    this.stallTimer = setTimeout(() => this.retryLater(`No update for ${Math.round(limit / 1000)} s; reconnecting`), limit);
  }

  /** @private @param {Snapshot} snapshot */
  deliver(snapshot) {
    // A resume replays the missed history in a burst: only the newest needs drawing.
    this.pending = snapshot;
    if (this.frameRequested) return;
    this.frameRequested = true;
    const flush = () => {
      this.frameRequested = false;
      const next = this.pending;
      this.pending = null;
      if (next && this.target) this.handlers.onSnapshot(next, this.target);
    };
    // rAF does not run in background tabs; a timeout keeps the page current for when it is shown again.
    if (document.visibilityState === 'visible') requestAnimationFrame(flush);
    else setTimeout(flush, 0);
  }

  /** @private @param {StreamState} state @param {string} detail */
  setState(state, detail) {
    this.state = state;
    this.handlers.onState(state, detail);
  }
}
