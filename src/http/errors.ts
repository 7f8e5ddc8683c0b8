import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Every client error leaves the app as `{ "error": code, "message": text }` with a 4xx status. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const invalidParameter = (message: string): HttpError =>
  new HttpError(400, 'invalid_parameter', message);

export const invalidBody = (message: string): HttpError => new HttpError(400, 'invalid_body', message);
