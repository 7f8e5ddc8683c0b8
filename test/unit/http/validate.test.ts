import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SKY_QUERY_RULES, SkyQuery } from '../../../src/http/schemas.ts';
import { queryParser, rulesParser } from '../../../src/http/validate.ts';

// GET /planets and /planets/:name check their query with SkyQuery's rules directly (rulesParser), not with
// the zod parse of SkyQuery (queryParser) that the rest of the routes and the document use. The two must
// give the same values for every query, and the same error (class and message) for every bad one.

const viaZod = queryParser(SkyQuery);
const viaRules = rulesParser(SKY_QUERY_RULES);

type Outcome = { ok: true; value: Record<string, unknown> } | { ok: false; kind: string; message: string };

function outcome(parse: (url: string) => unknown, url: string): Outcome {
  try {
    const value = parse(url) as Record<string, unknown>;
    // Absent fields: zod leaves the key out, rulesParser sets it to undefined; the routes read both the same.
    return { ok: true, value: Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) };
  } catch (err) {
    return { ok: false, kind: (err as Error).constructor.name, message: (err as Error).message };
  }
}

const key = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('lat', 'lon', 'elevation', 'time', 'refraction') },
  { weight: 1, arbitrary: fc.constantFrom('LAT', 'latt', '', '__proto__', 'constructor', 'toString', 'lat[]', '%6Cat', 'l%61t') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const value = fc.oneof(
  fc.constantFrom(
    '0', '-0', '51.5', '-90', '90', '90.0000001', '-180', '180', '180.5', '-500', '100000', '100001', '1e3', '1e400',
    'NaN', 'Infinity', '0x1F', ' 1', '%201', '', 'abc', '+1', '.5', '5.', '2026-03-20T12:00:00Z',
    '2026-03-20T12:00:00%2B02:00', '2026-03-20T12:00:00+02:00', '2026-03-20T12:00', '1899-12-31T23:59:59Z',
    '2100-12-31T23:59:59.999Z', '2101-01-01T00:00:00Z', '2026-02-29T00:00:00Z', 'normal', 'none', 'NONE', 'Normal',
    'airless', '%', '%zz', '%00', '=', '+', '%2B', '%E2%82%AC',
  ),
  fc.double().map(String),
  fc.string({ maxLength: 20 }),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);
const url = fc
  .tuple(
    fc.array(fc.tuple(key, value, fc.boolean()), { maxLength: 6 }),
    fc.constantFrom('', '&', '&&'),
    fc.boolean(),
  )
  .map(([pairs, sep, bare]) => {
    const q = pairs.map(([k, v, withValue]) => (withValue ? `${k}=${v}` : k)).join(sep || '&');
    return bare && q === '' ? '/planets/mars' : `/planets/mars?${q}`;
  });

describe('rulesParser(SKY_QUERY_RULES) ≡ queryParser(SkyQuery)', () => {
  it('the same fields in the same order as the schema', () => {
    expect(Object.keys(SKY_QUERY_RULES)).toEqual(Object.keys(SkyQuery.shape));
  });

  it.each([
    '/planets/mars',
    '/planets/mars?',
    '/planets/mars?lat=48.85&lon=2.35&elevation=35&time=2026-03-20T12:00:00Z&refraction=none',
    '/planets/mars?time=bad&lat=bad',
    '/planets/mars?refraction=x&lon=bad',
    '/planets/mars?lat=1&lat=2',
    '/planets/mars?lat=1&foo=2',
    '/planets/mars?foo=1&lat=1&lat=2',
    '/planets/mars?lat=',
    '/planets/mars?time=2026-03-20T12:00:00 02:00',
  ])('%s', (u) => {
    expect(outcome(viaRules, u)).toEqual(outcome(viaZod, u));
  });

  it('random queries', () => {
    fc.assert(
      fc.property(url, (u) => {
        expect(outcome(viaRules, u)).toEqual(outcome(viaZod, u));
      }),
      { numRuns: 3000 },
    );
  });
});
