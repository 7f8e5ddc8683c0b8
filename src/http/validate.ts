import type { z } from '@hono/zod-openapi';
import { quote } from '../sky/observer.ts';
import { HttpError, invalidParameter } from './errors.ts';

// Synchronous validation with the route schemas. Hono's validator middleware would do the same work
// asynchronously and without our rules for duplicated and unknown parameters; this is the hot path of
// GET /planets/:name, so it stays one pass over the query string and one zod parse.

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

/** A zod failure as our 400: the first issue, phrased with the field name. Value errors from the sky rules throw before this. */
function fromIssues(error: z.ZodError, what: string): HttpError {
  const issue = error.issues[0]!;
  const field = issue.path.join('.') || what;
  if (issue.code === 'invalid_type' && issue.input === undefined) return invalidParameter(`${field} is required`);
  return invalidParameter(`${field}: ${issue.message}`);
}

function allowedText(keys: readonly string[], noun: string): string {
  return keys.length === 0 ? `this route takes no ${noun}s` : `allowed: ${keys.join(', ')}`;
}

/**
 * Builds a parser for the query string of `url`: every key once, no key outside the schema, then the schema.
 * Everything that can be computed ahead (the key set, the messages' tails) is computed here, once per route.
 */
export function queryParser<S extends ObjectSchema>(schema: S): (url: string) => z.output<S> {
  const keys = Object.keys(schema.shape);
  const allowed = new Set(keys);
  const allowedMsg = allowedText(keys, 'query parameter');
  return (url) => {
    const q = url.indexOf('?');
    const record: Record<string, string> = {};
    if (q !== -1 && q < url.length - 1) {
      for (const [key, value] of new URLSearchParams(url.slice(q + 1))) {
        if (!allowed.has(key)) throw invalidParameter(`unknown query parameter ${quote(key)} (${allowedMsg})`);
        if (record[key] !== undefined) throw invalidParameter(`query parameter ${key} is given more than once`);
        record[key] = value;
      }
    }
    const parsed = schema.safeParse(record);
    if (!parsed.success) throw fromIssues(parsed.error, 'query');
    return parsed.data;
  };
}

/** Validates an already-decoded body object (JSON or form) against `schema`, naming unknown fields first. */
export function bodyParser<S extends ObjectSchema>(schema: S): (body: Record<string, unknown>) => z.output<S> {
  const keys = Object.keys(schema.shape);
  const allowed = new Set(keys);
  const allowedMsg = allowedText(keys, 'field');
  return (body) => {
    for (const key of Object.keys(body)) {
      if (!allowed.has(key)) throw invalidParameter(`unknown field ${quote(key)} in the body (${allowedMsg})`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw fromIssues(parsed.error, 'body');
    return parsed.data;
  };
}

/** Form fields (application/x-www-form-urlencoded) as a record, each field at most once. */
export function formRecord(text: string): Record<string, string> {
  const record: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of new URLSearchParams(text)) {
    if (record[key] !== undefined) throw invalidParameter(`field ${quote(key)} is given more than once`);
    record[key] = value;
  }
  return record;
}
