import { describe, expect, it } from 'vitest';
import { engineBody, utOf } from '../../../src/sky/fast-path.ts';
import { EventSearch } from '../../../src/sky/event-search.ts';
import { makeSite } from '../../../src/sky/topocentric.ts';
import { spanFor } from '../../../src/sky/track.ts';
import { BODY_NAMES } from '../../../src/sky/types.ts';
import { rng } from './helpers.ts';

// EventSearch.riseAndSet() lets the set search reuse the rise search's samples; its answers must be those of two
// separate searches, bit for bit (nulls included), or responses would depend on which function ran.

describe('EventSearch.riseAndSet', () => {
  it('is two separate riseSet() calls, exactly, for any body, site and start', () => {
    const search = new EventSearch();
    const r = rng(31);
    const bad: string[] = [];
    let events = 0;
    for (let i = 0; i < 1500; i++) {
      // A third of the sites within 20° of a pole: events missing, grazing, or more than one in a window.
      const lat = i % 3 === 0 ? (r() < 0.5 ? -1 : 1) * (70 + 20 * r()) : 180 * r() - 90;
      const site = makeSite({ lat, lon: 360 * r() - 180, elevation: Math.round(3000 * r()) });
      const body = engineBody(BODY_NAMES[i % BODY_NAMES.length]!);
      const startUt = utOf(Date.UTC(1900, 0, 2) + r() * (Date.UTC(2100, 11, 30) - Date.UTC(1900, 0, 2)));
      const limitDays = 1;
      const span = spanFor(body, startUt);
      const both = search.riseAndSet(span, site, body, startUt, limitDays);
      const rise = search.riseSet(span, site, body, +1, startUt, limitDays);
      const set = search.riseSet(span, site, body, -1, startUt, limitDays);
      if (!Object.is(both.rise, rise) || !Object.is(both.set, set)) {
        bad.push(`${body} lat ${lat} start ${startUt}: ${both.rise}/${both.set} vs ${rise}/${set}`);
      }
      events += (rise === null ? 0 : 1) + (set === null ? 0 : 1);
    }
    expect(bad).toEqual([]);
    // Most searches find their event; the comparison is not between two nulls.
    expect(events).toBeGreaterThan(1500);
  });
});
