import type { z } from '@hono/zod-openapi';
import { quote } from './observer.ts';
import { type HttpError, invalidParameter } from './errors.ts';

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
  const index = new Map(keys.map((k, i) => [k, i]));
  const allowedMsg = allowedText(keys, 'query parameter');
  return (url) => {
    const values = queryValues(url, index, allowedMsg);
    const record: Record<string, string> = {};
    for (let i = 0; i < keys.length; i++) if (values[i] !== undefined) record[keys[i]!] = values[i]!;
    const parsed = schema.safeParse(record);
    if (!parsed.success) throw fromIssues(parsed.error, 'query');
    return parsed.data;
  };
}

/** The query string's values by the index of their key: every key once, none outside `index`. */
function queryValues(url: string, index: ReadonlyMap<string, number>, allowedMsg: string): (string | undefined)[] {
  const values: (string | undefined)[] = new Array<string | undefined>(index.size).fill(undefined);
  const q = url.indexOf('?');
  if (q !== -1 && q < url.length - 1) {
    for (const [key, value] of new URLSearchParams(url.slice(q + 1))) {
      const i = index.get(key);
      if (i === undefined) throw invalidParameter(`unknown query parameter ${quote(key)} (${allowedMsg})`);
      if (values[i] !== undefined) throw invalidParameter(`query parameter ${key} is given more than once`);
      values[i] = value;
    }
  }
  return values;
}

/** One optional query field: its raw string → its value, throwing InvalidInputError on a bad one. */
export type QueryRule = (raw: string) => unknown;
export type RulesOutput<R extends Record<string, QueryRule>> = { [K in keyof R]?: ReturnType<R[K]> };

/**
 * queryParser() for a schema built from `rules` (every field an optional string mapped by its rule, as
 * SkyQuery is): the same key checks, then each rule in the rules' order, which is what the zod parse runs —
 * without zod's per-request work, on the busiest route. test/unit/http/validate.test.ts holds the two to the
 * same answers and errors.
 */
export function rulesParser<R extends Record<string, QueryRule>>(rules: R): (url: string) => RulesOutput<R> {
  const keys = Object.keys(rules);
  const fns = keys.map((k) => rules[k]!);
  const index = new Map(keys.map((k, i) => [k, i]));
  const allowedMsg = allowedText(keys, 'query parameter');
  return (url) => {
    const values = queryValues(url, index, allowedMsg);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const v = values[i];
      out[keys[i]!] = v === undefined ? undefined : fns[i]!(v);
    }
    return out as RulesOutput<R>;
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
