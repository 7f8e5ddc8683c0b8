import { describe, expect, it } from 'vitest';
import { happenings, type Happening } from '../../../src/sky/happenings.ts';
import { computeBody } from '../../../src/sky/fast-path.ts';
import {
  NASA_LUNAR_ECLIPSE_2025_03_14 as LUNAR,
  NASA_SOLAR_ECLIPSE_2024_04_08_DALLAS as SOLAR,
  TWILIGHT_ORLANDO,
  USNO_MOON_PHASES_APRIL_2024,
  USNO_RISE_SET,
} from '../../fixtures/sky-references.ts';

// Happenings against published almanac values (test/fixtures/sky-references.ts names each source).
// The bar: within one minute of the reference.

const MIN = 60_000;
const ms = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;

/** The happening of `kind` (and body) nearest to `iso`, and how far from it in ms. */
function nearest(list: readonly Happening[], iso: string): { h: Happening; off: number } {
  let best: { h: Happening; off: number } | undefined;
  for (const h of list) {
    const off = Math.abs(ms(h.time) - ms(iso));
    if (!best || off < best.off) best = { h, off };
  }
  expect(best, `a happening near ${iso}`).toBeDefined();
  return best!;
}

describe('happenings against published references', () => {
  it('rise and set within a minute of USNO tables (Sun at 60° S, Moon at 61° S)', () => {
    for (const row of USNO_RISE_SET) {
      const t = ms(row.time);
      // USNO prints minutes rounded: the reference is that minute.
      const list = happenings({ lat: row.lat, lon: row.lon, elevation: 0 }, t - 3 * HOUR, t + 3 * HOUR, new Set([row.kind]))
        .filter((h) => h.body === row.body);
      const { off } = nearest(list, row.time);
      expect(off, `${row.body} ${row.kind} ${row.time}`).toBeLessThanOrEqual(MIN);
    }
  });

  it('rise/set/transit name the same instants as the snapshot at the same place', () => {
    const observer = { lat: 51.4769, lon: -0.0005, elevation: 0 };
    const from = ms('2026-03-20T00:00:00Z');
    const list = happenings(observer, from, from + 24 * HOUR, new Set(['rise', 'set', 'transit']));
    const snap = computeBody('moon', observer, new Date(from));
    for (const kind of ['rise', 'set', 'transit'] as const) {
      const first = list.find((h) => h.body === 'moon' && h.kind === kind);
      expect(first?.time, kind).toBe(snap[kind]);
    }
  });

  it('civil, nautical and astronomical dawn and dusk within a minute of USNO (Orlando)', () => {
    const names = ['astronomical', 'nautical', 'civil', 'civil', 'nautical', 'astronomical'] as const;
    for (const [start, ...times] of TWILIGHT_ORLANDO.rows) {
      const from = ms(start);
      const list = happenings({ lat: TWILIGHT_ORLANDO.lat, lon: TWILIGHT_ORLANDO.lon, elevation: 0 }, from, from + 24 * HOUR, new Set(['dawn', 'dusk']));
      times.forEach((time, i) => {
        const kind = i < 3 ? 'dawn' : 'dusk';
        const got = list.find((h) => h.kind === kind && h.twilight === names[i]);
        expect(got, `${kind} ${names[i]} after ${start}`).toBeDefined();
        expect(Math.abs(ms(got!.time) - ms(`${time}Z`)), `${kind} ${names[i]} ${time}`).toBeLessThanOrEqual(MIN);
      });
    }
  });

  it('Moon phases of April 2024 within a minute of USNO', () => {
    const list = happenings({ lat: 0, lon: 0, elevation: 0 }, ms('2024-04-01T00:00Z'), ms('2024-05-02T00:00Z'), new Set(['phase']));
    expect(list.map((h) => h.phase)).toEqual(USNO_MOON_PHASES_APRIL_2024.map(([, p]) => p));
    list.forEach((h, i) => {
      expect(Math.abs(ms(h.time) - ms(USNO_MOON_PHASES_APRIL_2024[i]![0])), h.time).toBeLessThanOrEqual(MIN);
      expect(h.body).toBe('moon');
    });
  });

  it('the lunar eclipse of 2025-03-14: type, greatest eclipse and contacts within a minute of NASA; visible where NASA says', () => {
    const span = [ms('2025-03-13T00:00Z'), ms('2025-03-15T00:00Z')] as const;
    const seen = happenings({ ...LUNAR.visibleFrom, elevation: 0 }, ...span, new Set(['eclipse']));
    expect(seen).toHaveLength(1);
    const e = seen[0]!;
    expect(e).toMatchObject({ kind: 'eclipse', eclipse: 'lunar', type: LUNAR.type, body: 'moon', visible: true });
    expect(Math.abs(ms(e.time) - ms(LUNAR.greatest))).toBeLessThanOrEqual(MIN);
    for (const [name, time] of Object.entries(LUNAR.contacts)) {
      expect(Math.abs(ms(e.contacts![name]!) - ms(time)), name).toBeLessThanOrEqual(MIN);
    }
    const unseen = happenings({ ...LUNAR.notVisibleFrom, elevation: 0 }, ...span, new Set(['eclipse']));
    expect(unseen[0]).toMatchObject({ eclipse: 'lunar', visible: false });
    expect(unseen[0]!.alt).toBeLessThan(0);
  });

  it('the total solar eclipse of 2024-04-08 at Dallas: contacts within the minute NASA gives; none seen from Tokyo', () => {
    const span = [ms('2024-04-08T00:00Z'), ms('2024-04-09T00:00Z')] as const;
    const list = happenings({ lat: SOLAR.lat, lon: SOLAR.lon, elevation: SOLAR.elevation }, ...span, new Set(['eclipse']));
    expect(list).toHaveLength(1);
    const e = list[0]!;
    expect(e).toMatchObject({ eclipse: 'solar', type: SOLAR.type, body: 'sun', visible: true });
    expect(e.alt).toBeGreaterThan(60);
    for (const [name, minute] of Object.entries(SOLAR.contactMinutes)) {
      // NASA truncates to the minute: the true instant is in [minute, minute + 60 s); allow a minute either side.
      const t = ms(e.contacts![name]!);
      expect(t, name).toBeGreaterThanOrEqual(ms(minute) - MIN);
      expect(t, name).toBeLessThan(ms(minute) + 2 * MIN);
    }
    expect(happenings({ lat: 35.6762, lon: 139.6503, elevation: 0 }, ...span, new Set(['eclipse']))).toEqual([]);
  });

  it('an approach is two bodies within 1° at their closest (checked with the snapshot positions); all sorted, in span', () => {
    const observer = { lat: 51.4769, lon: 0, elevation: 0 };
    const from = ms('2026-03-01T00:00Z');
    const to = from + 14 * 24 * HOUR;
    const list = happenings(observer, from, to);
    for (let i = 1; i < list.length; i++) expect(list[i]!.time >= list[i - 1]!.time).toBe(true);
    for (const h of list) {
      expect(ms(h.time)).toBeGreaterThanOrEqual(from);
      expect(ms(h.time)).toBeLessThan(to);
    }
    const approaches = list.filter((h) => h.kind === 'approach');
    expect(approaches.length).toBeGreaterThan(0);
    const sepAt = (a: string, b: string, t: number): number => {
      const p = computeBody(a as 'moon', observer, new Date(t), 'none');
      const q = computeBody(b as 'moon', observer, new Date(t), 'none');
      const r = Math.PI / 180;
      const c = Math.sin(p.alt * r) * Math.sin(q.alt * r) + Math.cos(p.alt * r) * Math.cos(q.alt * r) * Math.cos((p.az - q.az) * r);
      return Math.acos(Math.min(1, c)) / r;
    };
    for (const a of approaches) {
      const [x, y] = a.bodies!;
      const t = ms(a.time);
      expect(a.separation).toBeLessThanOrEqual(1);
      expect(Math.abs(sepAt(x, y, t) - a.separation!)).toBeLessThan(0.01);
      expect(sepAt(x, y, t - 30 * MIN)).toBeGreaterThan(a.separation!);
      expect(sepAt(x, y, t + 30 * MIN)).toBeGreaterThan(a.separation!);
    }
  });
});
