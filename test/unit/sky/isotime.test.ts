import { describe, expect, it } from 'vitest';
import { isoString } from '../../../src/sky/isotime.ts';
import { TIME_RANGE } from '../../../src/sky/ranges.ts';
import { rng } from './helpers.ts';

// GET /planets writes the request's instant with isoString(); it must be Date#toISOString's text.

describe('isoString', () => {
  it('is Date#toISOString for every instant a request can name, and beyond', () => {
    const r = rng(41);
    const edges = [TIME_RANGE.min, TIME_RANGE.max - 1, 0, -1, Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(2100, 1, 28), 8.64e15, -8.64e15];
    const random = Array.from({ length: 20_000 }, () => Math.floor(TIME_RANGE.min + r() * (TIME_RANGE.max - TIME_RANGE.min)));
    const bad = [...edges, ...random].filter((ms) => isoString(ms) !== new Date(ms).toISOString());
    expect(bad).toEqual([]);
  });
});
