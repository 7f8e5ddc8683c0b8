// The status page: GET /status once for a first draw, then `event: status` from /status/stream (EventSource reconnects
// by itself, resuming with Last-Event-ID). DOM built with textContent only: nothing from the server becomes markup.

/**
 * @typedef {{ id: string, ready: boolean, clients: number, statusClients: number, locations: number, startedAt: number,
 *   updatedAt: number, messagesPerSecond: number, framesPerSecond: number, slowCloses: number }} StatusNode
 * @typedef {{ id: string, healthy: boolean, tickMs: number, ticks: number, skipped: number, failed: number,
 *   lastTickAt: number | null, lastTickAgeMs: number | null, lastDurationMs: number, maxDurationMs: number,
 *   brokerReady: boolean }} StatusWorker
 * @typedef {{ at: number, node: string, location: string, joins: number, leaves: number }} Activity
 * @typedef {{ id: number, time: string, reportedBy: string, intervalMs: number,
 *   totals: Record<string, number>, nodes: StatusNode[],
 *   locations: { id: string, name: string, subscribers: number, byNode: Record<string, number> }[],
 *   workers: StatusWorker[], activity: Activity[] }} ClusterStatus
 */

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * @param {string} tag
 * @param {string | number} text
 * @param {string} [cls]
 */
function el(tag, text, cls) {
  const e = document.createElement(tag);
  e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

/** @param {(string | number | HTMLElement)[]} cells */
function row(cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    if (c instanceof HTMLElement) td.append(c);
    else td.textContent = String(c);
    tr.append(td);
  }
  return tr;
}

/** @param {number} ms */
const clock = (ms) => new Date(ms).toISOString().slice(11, 19);

const TOTAL_LABELS = /** @type {const} */ ([
  ['nodes', 'API nodes'],
  ['clients', 'stream clients'],
  ['locations', 'locations watched'],
  ['messagesPerSecond', 'messages/s'],
  ['framesPerSecond', 'frames/s'],
  ['statusClients', 'status viewers'],
]);

/** @param {ClusterStatus} s */
function render(s) {
  $('reported-by').textContent = s.reportedBy;
  $('updated').textContent = clock(Date.parse(s.time));
  $('interval').textContent = `${s.intervalMs / 1000} s`;

  const totals = $('totals');
  totals.replaceChildren(
    ...TOTAL_LABELS.map(([key, label]) => {
      const d = document.createElement('div');
      d.append(el('dt', label), el('dd', s.totals[key] ?? 0));
      d.dataset.key = key;
      return d;
    }),
  );

  $('workers').replaceChildren(
    ...(s.workers.length === 0
      ? [row(['no worker reporting', el('span', 'down', 'bad'), '', '', '', '', ''])]
      : s.workers.map((w) =>
          row([
            w.id,
            el('span', w.healthy ? 'healthy' : w.brokerReady ? 'stalled' : 'broker down', w.healthy ? 'ok' : 'bad'),
            w.ticks,
            w.skipped,
            w.failed,
            w.lastTickAgeMs === null ? '—' : `${(w.lastTickAgeMs / 1000).toFixed(1)} s ago`,
            `${w.lastDurationMs} / ${w.maxDurationMs}`,
          ]),
        )),
  );

  $('nodes').replaceChildren(
    ...s.nodes.map((n) =>
      row([
        n.id,
        el('span', n.ready ? 'ready' : 'not ready', n.ready ? 'ok' : 'bad'),
        n.clients,
        n.locations,
        n.messagesPerSecond,
        n.framesPerSecond,
        n.slowCloses,
        clock(n.startedAt),
      ]),
    ),
  );

  $('locations').replaceChildren(
    ...s.locations.map((l) => {
      const tr = row([
        `${l.name} (${l.id})`,
        l.subscribers,
        Object.entries(l.byNode)
          .map(([node, n]) => `${node}: ${n}`)
          .join(', '),
      ]);
      tr.dataset.location = l.id;
      return tr;
    }),
  );

  $('activity').replaceChildren(
    ...s.activity.map((a) => {
      const li = document.createElement('li');
      const parts = [];
      if (a.joins) parts.push(`+${a.joins} joined`);
      if (a.leaves) parts.push(`−${a.leaves} left`);
      li.append(el('time', clock(a.at)), `${a.location}: ${parts.join(', ')} on ${a.node}`);
      return li;
    }),
  );
}

/** @param {'connecting' | 'live' | 'error'} state @param {string} text */
function connection(state, text) {
  const c = $('conn');
  c.dataset.state = state;
  c.textContent = text;
}

async function start() {
  try {
    const res = await fetch('/status', { headers: { Accept: 'application/json' } });
    if (res.ok) render(await res.json());
  } catch {
    // the stream below retries on its own
  }
  const source = new EventSource('/status/stream');
  source.addEventListener('open', () => connection('live', 'Live'));
  source.addEventListener('error', () => connection('error', 'Reconnecting…'));
  source.addEventListener('status', (e) => {
    connection('live', 'Live');
    render(JSON.parse(/** @type {MessageEvent<string>} */ (e).data));
  });
}

void start();
