import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { HttpError } from './errors.ts';

// GET /docs: the API reference, Swagger UI (the swagger-ui-dist package) rendering /openapi.json. The page is
// web/docs.html; Swagger UI's two files are served from the package under /docs/vendor/, so the reference needs no
// CDN and stays within the page's Content-Security-Policy (script-src 'self').

const VENDOR_FILES: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

const vendorDir = (): string => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

export function mountDocs(app: OpenAPIHono, webRoot: string): void {
  const dir = vendorDir();
  // Read once, on first request: a few hundred kB that never change while the process runs.
  const cache = new Map<string, Promise<Buffer>>();
  const file = (path: string): Promise<Buffer> => {
    let f = cache.get(path);
    if (!f) {
      f = readFile(path);
      cache.set(path, f);
      f.catch(() => cache.delete(path));
    }
    return f;
  };

  app.get('/docs', async (c) =>
    c.body(new Uint8Array(await file(join(webRoot, 'docs.html'))), 200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-cache',
    }),
  );
  app.get('/docs/vendor/:file', async (c) => {
    const name = c.req.param('file');
    const type = VENDOR_FILES[name];
    if (!type) throw new HttpError(404, 'not_found', `no file ${name} in /docs/vendor/`);
    return c.body(new Uint8Array(await file(join(dir, name))), 200, {
      'Content-Type': type,
      'Cache-Control': 'public, max-age=300',
    });
  });
}
