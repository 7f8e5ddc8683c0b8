import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:http';

// One plain HTTP GET on a connection of its own (no keep-alive pool, so each is a fresh connection as a new client's
// would be): status, headers and the whole body as text. Shared by the stack and Docker tests.

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function httpGet(url: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
