import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { parseTrustedProxies } from '../../../src/http/client-ip.ts';
import { createSpotLimiter } from '../../../src/http/spot-limit.ts';

// MAX_SPOTS_PER_CLIENT through a real Hono context with a fake socket peer: distinct cells per address, not streams.

const trusted = parseTrustedProxies('127.0.0.1,::1');

function setup(max: number) {
  let refused = 0;
  const limiter = createSpotLimiter({ max, trusted, onRefused: () => refused++ });
  const releases: (() => void)[] = [];
  const app = new Hono();
  app.get('/:cell', (c) => {
    const r = limiter.admit(c, c.req.param('cell'));
    if (r instanceof Response) return r;
    releases.push(r);
    return c.text('ok');
  });
  const hit = async (peer: string, cell: string, xff?: string): Promise<Response> =>
    app.request(`/${cell}`, { headers: xff ? { 'x-forwarded-for': xff } : {} }, { incoming: { socket: { remoteAddress: peer } } });
  return { hit, releases, refused: () => refused };
}

describe('createSpotLimiter', () => {
  it('counts distinct cells per address: more streams of a held cell pass, a new cell beyond max is a 429', async () => {
    const { hit, releases, refused } = setup(2);
    expect((await hit('9.9.9.9', 'a')).status).toBe(200);
    expect((await hit('9.9.9.9', 'b')).status).toBe(200);
    expect((await hit('9.9.9.9', 'a')).status).toBe(200);
    const no = await hit('9.9.9.9', 'c');
    expect(no.status).toBe(429);
    expect(no.headers.get('retry-after')).toBe('5');
    expect(await no.json()).toMatchObject({ error: 'too_many_spots', message: expect.stringContaining('MAX_SPOTS_PER_CLIENT=2') });
    expect(refused()).toBe(1);
    // Another address has its own budget; behind a trusted proxy, the forwarded client is the address.
    expect((await hit('8.8.8.8', 'c')).status).toBe(200);
    expect((await hit('127.0.0.1', 'x', '7.7.7.7')).status).toBe(200);
    expect((await hit('127.0.0.1', 'y', '7.7.7.7')).status).toBe(200);
    expect((await hit('127.0.0.1', 'z', '7.7.7.7')).status).toBe(429);
    // Cell a is held twice: one release keeps it; the second frees it, and c fits.
    releases[0]!();
    releases[0]!(); // idempotent
    expect((await hit('9.9.9.9', 'c')).status).toBe(429);
    releases[2]!();
    expect((await hit('9.9.9.9', 'c')).status).toBe(200);
  });

  it('a trusted proxy forwarding no client is not one client; max 0 admits everyone', async () => {
    const proxy = setup(1);
    for (const cell of ['a', 'b', 'c']) expect((await proxy.hit('127.0.0.1', cell)).status).toBe(200);
    const off = setup(0);
    for (let i = 0; i < 50; i++) expect((await off.hit('9.9.9.9', `cell${i}`)).status).toBe(200);
  });
});
