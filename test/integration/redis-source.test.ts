import { describe, expect, inject, it } from 'vitest';
import { respCommand } from '../../scripts/resp.ts';

// Which Redis the integration tests talk to (test/setup/global.ts). CI runs them twice, with ORRERY_TEST_REDIS=
// redis-server and =testcontainers; this is what shows that the forced source is the one in use, and that it answers.
describe('the tests’ Redis', () => {
  it('comes from the source ORRERY_TEST_REDIS asks for, and answers', async () => {
    const forced = process.env.ORRERY_TEST_REDIS;
    const source = inject('redisSource');
    if (forced) expect(source).toBe(forced);
    else expect(['env', 'testcontainers', 'redis-server']).toContain(source);
    const url = new URL(inject('redisUrl'));
    expect(await respCommand(Number(url.port), url.hostname, ['PING'])).toBe('PONG');
  });
});
