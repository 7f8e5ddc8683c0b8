import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAGE_CSP } from '../../../src/http/page-headers.ts';

// The page runs under one Content-Security-Policy whoever serves it: the API itself (embedded mode, PAGE_CSP) or
// nginx in the stack (its template). nginx's config cannot import TypeScript, so the two texts are held equal here.

describe('the page CSP', () => {
  it('is the same text in the API and in nginx', () => {
    const template = readFileSync(new URL('../../../nginx/nginx.conf.template', import.meta.url), 'utf8');
    const inNginx = [...template.matchAll(/add_header Content-Security-Policy "([^"]+)"/g)].map((m) => m[1]);
    expect(inNginx.length).toBeGreaterThan(0);
    for (const csp of inNginx) expect(csp).toBe(PAGE_CSP);
  });
});
