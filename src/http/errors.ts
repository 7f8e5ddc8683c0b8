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

export interface ErrorBody {
  error: string;
  message: string;
}

export const invalidParameter = (message: string): HttpError =>
  new HttpError(400, 'invalid_parameter', message);

export const notFound = (message: string): HttpError => new HttpError(404, 'not_found', message);

export const invalidBody = (message: string): HttpError => new HttpError(400, 'invalid_body', message);
