// The stream formats, read back: a pure function from (picture, frame) to picture, no DOM, no network.
//
// A stream opened with `?format=delta` (docs/api.md, "Stream formats") sends the whole snapshot as `event: update`
// first, then per tick `event: delta`: the tick's `time`, and only what changed since the previous frame, e.g.
//   {"time":"2026-12-03T10:39:31.000Z","bodies":{"venus":{"alt":25.4741616},"moon":{"az":229.7468622,"ra":12.36026565}}}
// A field appears when the way the page displays it changes, with its full value; other top-level fields (`location`)
// whole when they change. The server sends a delta only on top of the frame it follows on the same connection, and the
// whole snapshot again after any gap, so applying every frame in order always gives the current picture.
//
//   let picture = null;
//   for (const type of ['update', 'delta']) {
//     source.addEventListener(type, (e) => {
//       picture = applyFrame(picture, e.type, e.data);
//       if (picture) draw(picture);
//     });
//   }
//
// The same code reads a `full` stream (every frame an `update`).

/**
 * @typedef {{ name: string, [field: string]: unknown }} PictureBody
 * @typedef {{ time: string, bodies: PictureBody[], location?: unknown, publishedAt?: number, [field: string]: unknown }} Picture
 *   The snapshot as the latest frames left it. `publishedAt` only right after an `update`: deltas do not carry it.
 * @typedef {{ time: string, bodies?: Record<string, Record<string, unknown>>, [field: string]: unknown }} Delta
 */

/** The SSE event types that change the picture. */
export const PICTURE_EVENTS = /** @type {const} */ (['update', 'delta']);

/**
 * The picture after one SSE frame. `update`: its snapshot is the picture. `delta`: the previous picture with the
 * delta's fields put in (a new object; the old picture is not changed). Other events (`sky-event`, `resume`,
 * `reconnect`): the picture as it was. A delta with no picture to apply to (which the server never sends) gives null.
 * Throws SyntaxError on data that is not JSON.
 * @param {Picture | null} picture
 * @param {string} eventType
 * @param {string} data
 * @returns {Picture | null}
 */
export function applyFrame(picture, eventType, data) {
  if (eventType === 'update') return /** @type {Picture} */ (JSON.parse(data));
  if (eventType !== 'delta') return picture;
  if (picture === null) return null;
  const delta = /** @type {Delta} */ (JSON.parse(data));
  const { bodies: changes = {}, ...top } = delta;
  const { publishedAt: _stale, ...rest } = picture;
  const bodies = picture.bodies.map((b) => {
    const changed = changes[b.name];
    return changed === undefined ? b : { ...b, ...changed };
  });
  return { ...rest, ...top, bodies };
}
