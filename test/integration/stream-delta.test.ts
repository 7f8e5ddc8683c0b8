import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiNode, type ApiNode } from '../../scripts/processes.ts';
import { openStream, type SseMessage, type SseStream } from '../../scripts/sse-client.ts';
import { applyFrame, displayed, type Picture } from '../unit/hub/page-modules.ts';

// ?format=delta on a real embedded node (memory broker, in-process ticks, the stream front and its batched writes):
// the whole picture first, then deltas; the page's decoder, fed the delta stream, draws what the full stream draws.

let node: ApiNode;
beforeAll(async () => {
  node = await startApiNode({ REDIS_URL: '', TICK_MS: '1000', WORKER_LOCATIONS: 'london,tokyo' });
});
afterAll(() => node?.stop('SIGKILL'));

/** The picture after each frame of a stream that changes it, by event id. */
function pictures(messages: readonly SseMessage[]): Map<string, Picture> {
  const out = new Map<string, Picture>();
  let picture: Picture | null = null;
  for (const m of messages) {
    if (m.data === undefined || m.event === undefined) continue;
    picture = applyFrame(picture, m.event, m.data);
    if ((m.event === 'update' || m.event === 'delta') && picture) out.set(m.id!, picture);
  }
  return out;
}

const frames = (s: SseStream) => s.messages.filter((m) => m.event === 'update' || m.event === 'delta');

describe('stream format delta', () => {
  it('gives the whole picture first, then deltas whose picture the page draws as it draws the full stream', async () => {
    const full = await openStream(`${node.url}/stream/london`);
    const delta = await openStream(`${node.url}/stream/london?format=delta`);
    expect(delta.status).toBe(200);
    expect(delta.headers['content-type']).toMatch(/text\/event-stream/);
    await delta.waitFor((ms) => ms.filter((m) => m.event === 'delta').length >= 8, 30_000, '8 deltas');
    const got = frames(delta);
    expect(got[0]!.event).toBe('update');
    expect(got.slice(1).every((m) => m.event === 'delta')).toBe(true);
    // Every frame keeps its id (the tick) and its time.
    for (const m of got) expect(Date.parse(JSON.parse(m.data!).time)).toBe(Number(m.id));
    // A delta carries what changed, not the snapshot: well under a tenth of it.
    const sizes = got.slice(1).map((m) => m.data!.length);
    expect(Math.max(...sizes)).toBeLessThan(got[0]!.data!.length / 4);

    await full.waitFor((ms) => ms.some((m) => m.id === got.at(-1)!.id), 10_000, 'the same ticks on the full stream');
    const truth = pictures(full.messages);
    const rebuilt = pictures(delta.messages);
    let compared = 0;
    for (const [id, picture] of rebuilt) {
      const snapshot = truth.get(id);
      if (!snapshot) continue;
      expect(displayed(picture), `tick ${id}`).toEqual(displayed(snapshot));
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(8);
    // ... and it is no copy of the snapshot: deltas keep values from earlier ticks where the display did not change.
    const last = got.at(-1)!.id!;
    expect(rebuilt.get(last)).not.toEqual(truth.get(last));
    full.close();
    delta.close();
  }, 60_000);

  it('on resume (Last-Event-ID header or lastEventId query) gives the whole picture first again', async () => {
    const first = await openStream(`${node.url}/stream/tokyo?format=delta`);
    await first.waitFor((ms) => ms.filter((m) => m.event === 'delta').length >= 2, 15_000, '2 deltas');
    first.close();
    const lastId = frames(first).at(-1)!.id!;
    for (const [url, headers] of [
      [`${node.url}/stream/tokyo?format=delta`, { 'Last-Event-ID': lastId }],
      [`${node.url}/stream/tokyo?format=delta&lastEventId=${lastId}`, {}],
    ] as const) {
      const resumed = await openStream(url, { headers });
      await resumed.waitFor((ms) => ms.filter((m) => m.event === 'delta').length >= 1, 15_000, 'a delta after the resume');
      const got = frames(resumed);
      expect(got[0]!.event, url).toBe('update');
      expect(Number(got[0]!.id)).toBeGreaterThanOrEqual(Number(lastId));
      expect(got.slice(1).every((m) => m.event === 'delta')).toBe(true);
      resumed.close();
    }
  }, 60_000);

  it('works on the stream of an exact spot', async () => {
    const s = await openStream(`${node.url}/stream?lat=35.7&lon=139.7&format=delta`);
    await s.waitFor((ms) => ms.some((m) => m.event === 'delta'), 15_000, 'a delta');
    expect(frames(s)[0]!.event).toBe('update');
    const first = JSON.parse(frames(s)[0]!.data!) as { observer: { latitude: number; longitude: number }; cell: { id: string } };
    expect(first.observer).toMatchObject({ latitude: 35.7, longitude: 139.7 });
    expect(first.cell.id).toEqual(expect.any(String));
    s.close();
  }, 30_000);

  it('refuses a format it does not know with 400 JSON naming the parameter', async () => {
    for (const path of ['/stream/london?format=gzip', '/stream/london?format=', '/stream?lat=1&lon=2&format=DELTA', '/stream/london?format=delta&format=full']) {
      const res = await fetch(`${node.url}${path}`, { headers: { Accept: 'text/event-stream' } });
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe('invalid_parameter');
      expect(body.message).toMatch(/format/);
    }
  });
});
