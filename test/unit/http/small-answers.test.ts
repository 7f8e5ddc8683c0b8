import { expect, it } from 'vitest';
import { createApp } from '../../../src/http/app.ts';

// Small answers of issue 14, point 9.
// A JSON number too large for a double parses as Infinity, which JSON.stringify writes as null (issue 14, point 9):
// the message must say what the value became, not "got null".

it('{"lat":1e400} is refused naming lat and the value it parsed to', async () => {
  const res = await createApp().request('/geo_location', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{"lat":1e400,"lon":0,"elevation":0}',
  });
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: string; message: string };
  expect(body.message).toContain('lat');
  expect(body.message).not.toContain('got null');
  expect(body.message).toMatch(/Infinity/);
});

it('a page file is 304 to a client whose copy is as new as it (If-Modified-Since), 200 otherwise', async () => {
  const app = createApp({ webRoot: new URL('../../../web/', import.meta.url).pathname });
  const first = await app.request('/index.html');
  expect(first.status).toBe(200);
  const modified = first.headers.get('last-modified');
  expect(modified).toBeTruthy();
  const again = await app.request('/index.html', { headers: { 'If-Modified-Since': modified! } });
  expect(again.status).toBe(304);
  expect(await again.text()).toBe('');
  const older = await app.request('/index.html', { headers: { 'If-Modified-Since': new Date(Date.parse(modified!) - 60_000).toUTCString() } });
  expect(older.status).toBe(200);
});
