import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { clientIp, parseTrustedProxies } from '../../../src/http/client-ip.ts';
import { createStreamLimiter } from '../../../src/http/stream-limit.ts';

// The client key behind a proxy and the per-client stream budget, through a real Hono context with a fake socket peer.

const trusted = parseTrustedProxies('127.0.0.1,::1');

async function ipOf(peer: string, xff?: string): Promise<string> {
  const app = new Hono();
  app.get('/', (c) => c.text(clientIp(c, trusted)));
  const res = await app.request('/', { headers: xff ? { 'x-forwarded-for': xff } : {} }, { incoming: { socket: { remoteAddress: peer } } });
  return res.text();
}

describe('clientIp', () => {
  it('is the socket peer unless the peer is a trusted proxy', async () => {
    expect(await ipOf('203.0.113.9', '1.2.3.4')).toBe('203.0.113.9');
    expect(await ipOf('127.0.0.1', '1.2.3.4')).toBe('1.2.3.4');
    expect(await ipOf('::ffff:127.0.0.1', '1.2.3.4')).toBe('1.2.3.4');
    expect(await ipOf('127.0.0.1')).toBe('127.0.0.1');
  });
  it('reads X-Forwarded-For from the right, skipping trusted hops; garbage proves nothing', async () => {
    expect(await ipOf('127.0.0.1', '6.6.6.6, 1.2.3.4')).toBe('1.2.3.4');
    expect(await ipOf('127.0.0.1', '1.2.3.4, 127.0.0.1')).toBe('1.2.3.4');
    expect(await ipOf('127.0.0.1', 'evil x, 1.2.3.4, nonsense')).toBe('127.0.0.1');
  });
});

describe('createStreamLimiter', () => {
  it('admits up to max per address, answers 429 JSON with Retry-After beyond, and frees a slot on release', async () => {
    let refused = 0;
    const limiter = createStreamLimiter({ max: 2, trusted, onRefused: () => refused++ });
    const releases: (() => void)[] = [];
    const app = new Hono();
    app.get('/', (c) => {
      const r = limiter.admit(c);
      if (r instanceof Response) return r;
      releases.push(r);
      return c.text('ok');
    });
    const hit = async (peer: string): Promise<Response> => app.request('/', {}, { incoming: { socket: { remoteAddress: peer } } });
    expect((await hit('9.9.9.9')).status).toBe(200);
    expect((await hit('9.9.9.9')).status).toBe(200);
    const no = await hit('9.9.9.9');
    expect(no.status).toBe(429);
    expect(no.headers.get('retry-after')).toBe('5');
    expect(await no.json()).toMatchObject({ error: 'too_many_streams' });
    expect((await hit('8.8.8.8')).status).toBe(200);
    expect(refused).toBe(1);
    releases[0]!();
    releases[0]!(); // idempotent
    expect(limiter.count('9.9.9.9')).toBe(1);
    expect((await hit('9.9.9.9')).status).toBe(200);
  });
  it('max 0 admits everyone', async () => {
    const limiter = createStreamLimiter({ max: 0, trusted });
    const app = new Hono();
    app.get('/', (c) => {
      const r = limiter.admit(c);
      return r instanceof Response ? r : c.text('ok');
    });
    for (let i = 0; i < 50; i++) expect((await app.request('/')).status).toBe(200);
  });
});
