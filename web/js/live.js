// One live stream at a time: an EventSource on /stream/<location>, its connection state, and recovery.
//
// EventSource reconnects by itself after a network error and sends Last-Event-ID, so the server
// replays what we missed. It gives up for good only when a response is not a stream (a 502 from a
// proxy while the API restarts, say); then we open a new one ourselves with ?lastEventId= (a new
// EventSource cannot be given the header), backing off so a dead server is not hammered.

/** @typedef {'idle' | 'connecting' | 'live' | 'reconnecting'} StreamState */
/** @typedef {import('./api.js').Snapshot} Snapshot */

const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];
/**
 * Heartbeats are comments, invisible to EventSource, so silence is judged by updates alone: this long,
 * or three tick intervals if the server ticks slower, means a dead connection that nobody closed.
 */
const STALL_MS = 30_000;

export class LiveStream {
  /**
   * @param {{ onSnapshot: (s: Snapshot) => void, onState: (state: StreamState, detail: string) => void }} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    /** @type {EventSource | null} */
    this.source = null;
    /** @type {string | null} */
    this.locationId = null;
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

  /** Streams `locationId`; a different location starts afresh, the same one is left alone. @param {string} locationId */
  open(locationId) {
    if (locationId === this.locationId && this.source) return;
    this.close();
    this.locationId = locationId;
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
    this.locationId = null;
    this.pending = null;
    this.setState('idle', '');
  }

  /** @private */
  connect() {
    const id = this.locationId;
    if (!id) return;
    const url = `/stream/${encodeURIComponent(id)}${this.lastEventId ? `?lastEventId=${encodeURIComponent(this.lastEventId)}` : ''}`;
    const source = new EventSource(url);
    this.source = source;
    this.setState(this.lastEventId ? 'reconnecting' : 'connecting', '');

    source.addEventListener('open', () => {
      if (this.source !== source) return;
      this.armStallTimer();
    });
    source.addEventListener('update', (event) => {
      if (this.source !== source) return;
      const message = /** @type {MessageEvent<string>} */ (event);
      /** @type {Snapshot} */
      let snapshot;
      try {
        snapshot = JSON.parse(message.data);
      } catch {
        return; // A frame we cannot read is skipped; the next tick replaces it anyway.
      }
      if (snapshot?.location?.id !== id || !Array.isArray(snapshot.bodies)) return;
      if (message.lastEventId) this.lastEventId = message.lastEventId;
      const now = performance.now();
      if (this.lastUpdateAt) this.interval = now - this.lastUpdateAt;
      this.lastUpdateAt = now;
      this.failures = 0;
      this.setState('live', '');
      this.armStallTimer();
      this.deliver(snapshot);
    });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      clearTimeout(this.stallTimer);
      if (source.readyState === EventSource.CLOSED) {
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
      if (next) this.handlers.onSnapshot(next);
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
