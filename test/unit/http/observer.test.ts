import { describe, expect, it } from 'vitest';
import {
  GREENWICH,
  InvalidInputError,
  parseElevation,
  parseLat,
  parseLon,
  parseObserver,
  parseRefraction,
  parseTime,
  resolveObserver,
} from '../../../src/http/observer.ts';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as Error).message;
  }
  throw new Error('expected an InvalidInputError');
}

describe('parseLat / parseLon / parseElevation', () => {
  it('accepts plain decimal numbers from strings and JSON numbers', () => {
    expect(parseLat('48.93')).toBe(48.93);
    expect(parseLat('-90')).toBe(-90);
    expect(parseLat('+90')).toBe(90);
    expect(parseLat('.5')).toBe(0.5);
    expect(parseLat('1e1')).toBe(10);
    expect(parseLat(-39.754)).toBe(-39.754);
    expect(parseLon('180')).toBe(180);
    expect(parseLon('-180')).toBe(-180);
    expect(parseElevation('8848.86')).toBe(8848.86);
    expect(parseElevation(-430)).toBe(-430);
    expect(Object.is(parseLat('-0'), 0)).toBe(true);
  });

  it.each(['abc', ' 1', '1 ', '0x10', 'Infinity', 'NaN', '1,5', '--1', '1e', '.', '+', '١٢'])(
    'rejects %j naming lat and quoting the value',
    (raw) => {
      expect(messageOf(() => parseLat(raw))).toBe(`lat must be a number between -90 and 90, got ${JSON.stringify(raw)}`);
    },
  );

  it('rejects out-of-range values, with the range in the message', () => {
    expect(messageOf(() => parseLat('90.0001'))).toContain('between -90 and 90, got "90.0001"');
    expect(messageOf(() => parseLon('-180.5'))).toBe('lon must be a number between -180 and 180, got "-180.5"');
    expect(messageOf(() => parseElevation('100001'))).toContain('elevation must be a number of metres between -500 and 100000');
    expect(messageOf(() => parseElevation('-501'))).toContain('got "-501"');
    expect(messageOf(() => parseLat('1e400'))).toContain('got "1e400"');
  });

  it('rejects empty strings and non-numbers of any JSON type', () => {
    expect(messageOf(() => parseLat(''))).toBe('lat must not be empty');
    expect(messageOf(() => parseLon(true))).toBe('lon must be a number between -180 and 180, got true');
    expect(messageOf(() => parseLon(null))).toContain('got null');
    expect(messageOf(() => parseLon([1]))).toContain('got [1]');
    expect(messageOf(() => parseLon({ a: 1 }))).toContain('got {"a":1}');
    expect(messageOf(() => parseLon(Number.NaN))).toContain('lon must be a number');
    expect(messageOf(() => parseLon(Number.POSITIVE_INFINITY))).toContain('lon must be a number');
  });

  it('cuts long values short in messages', () => {
    const msg = messageOf(() => parseLat('x'.repeat(5000)));
    expect(msg.length).toBeLessThan(160);
    expect(msg.endsWith('…')).toBe(true);
  });
});

describe('parseTime', () => {
  it('accepts ISO-8601 instants with Z or an offset', () => {
    expect(parseTime('2026-03-20T12:00:00Z').toISOString()).toBe('2026-03-20T12:00:00.000Z');
    expect(parseTime('2026-03-20T12:00Z').toISOString()).toBe('2026-03-20T12:00:00.000Z');
    expect(parseTime('2026-03-20t12:00:00.5z').toISOString()).toBe('2026-03-20T12:00:00.500Z');
    expect(parseTime('2026-03-20T12:00:00.123456789Z').toISOString()).toBe('2026-03-20T12:00:00.123Z');
    expect(parseTime('2026-03-20T12:00:00+02:00').toISOString()).toBe('2026-03-20T10:00:00.000Z');
    expect(parseTime('2026-03-20T12:00:00-0530').toISOString()).toBe('2026-03-20T17:30:00.000Z');
    expect(parseTime('2024-02-29T00:00:00Z').toISOString()).toBe('2024-02-29T00:00:00.000Z');
  });

  it('supports 1900-01-01 to the end of 2100, and says so when outside', () => {
    expect(parseTime('1900-01-01T00:00:00Z').toISOString()).toBe('1900-01-01T00:00:00.000Z');
    expect(parseTime('2100-12-31T23:59:59.999Z').toISOString()).toBe('2100-12-31T23:59:59.999Z');
    expect(parseTime('1899-12-31T23:30:00-01:00').toISOString()).toBe('1900-01-01T00:30:00.000Z');
    const msg = messageOf(() => parseTime('1899-12-31T23:59:59Z'));
    expect(msg).toBe('time must be from 1900-01-01T00:00:00Z to 2100-12-31T23:59:59.999Z, got "1899-12-31T23:59:59Z"');
    expect(messageOf(() => parseTime('2101-01-01T00:00:00Z'))).toContain('must be from 1900');
    expect(messageOf(() => parseTime('0050-01-01T00:00:00Z'))).toContain('must be from 1900');
  });

  it.each([
    'now',
    'tomorrow',
    '2026-03-20',
    '2026-03-20T12:00:00',
    '2026-03-20 12:00:00Z',
    '20260320T120000Z',
    '2026-13-01T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2100-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-03-20T24:00:00Z',
    '2026-03-20T12:60:00Z',
    '2026-03-20T12:00:60Z',
    '2026-03-20T12:00:00+24:00',
    '1774008000000',
    'Fri, 20 Mar 2026 12:00:00 GMT',
  ])('rejects non-ISO or impossible %j', (raw) => {
    expect(messageOf(() => parseTime(raw))).toBe(
      `time must be an ISO-8601 instant with a UTC offset, e.g. "2026-03-20T12:00:00Z", got ${JSON.stringify(raw)}`,
    );
  });

  it('explains a "+" that a query string turned into a space', () => {
    expect(messageOf(() => parseTime('2026-03-20T12:00:00 02:00'))).toContain('write it as %2B');
  });

  it('rejects empty and non-string values', () => {
    expect(messageOf(() => parseTime(''))).toBe('time must not be empty');
    expect(messageOf(() => parseTime(1774008000000))).toContain('got 1774008000000');
  });
});

describe('parseRefraction', () => {
  it('accepts normal and none, case-insensitively', () => {
    expect(parseRefraction('normal')).toBe('normal');
    expect(parseRefraction('NONE')).toBe('none');
  });
  it('rejects anything else', () => {
    expect(messageOf(() => parseRefraction('jupiter'))).toBe('refraction must be "normal" or "none", got "jupiter"');
    expect(messageOf(() => parseRefraction(''))).toBe('refraction must not be empty');
  });
});

describe('resolveObserver / parseObserver', () => {
  it('falls back to Greenwich only when neither lat nor lon is given', () => {
    expect(resolveObserver({}, GREENWICH)).toEqual({ lat: 51.4769, lon: -0.0005, elevation: 0 });
    expect(resolveObserver({ lat: 1, lon: 2 }, GREENWICH)).toEqual({ lat: 1, lon: 2, elevation: 0 });
    expect(resolveObserver({ lat: 1, lon: 2, elevation: 3 })).toEqual({ lat: 1, lon: 2, elevation: 3 });
  });

  it('refuses half an observer, and elevation alone', () => {
    expect(messageOf(() => resolveObserver({ lat: 1 }, GREENWICH))).toBe('lon is missing: lat and lon must be given together');
    expect(messageOf(() => resolveObserver({ lon: 1 }, GREENWICH))).toBe('lat is missing: lat and lon must be given together');
    expect(messageOf(() => resolveObserver({ elevation: 5 }, GREENWICH))).toContain('elevation was given without lat and lon');
    expect(messageOf(() => resolveObserver({}))).toBe('lat and lon are required');
  });

  it('parses raw values with the same rules', () => {
    expect(parseObserver({ lat: '48.93', lon: 2.45, elevation: '0' })).toEqual({ lat: 48.93, lon: 2.45, elevation: 0 });
    expect(messageOf(() => parseObserver({ lat: '48.93', lon: 'east' }))).toContain('lon must be a number');
    const err = (() => {
      try {
        parseObserver({ lat: '91', lon: '0' });
      } catch (e) {
        return e as InvalidInputError;
      }
    })();
    expect(err?.param).toBe('lat');
  });
});
