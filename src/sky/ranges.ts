// The domain the sky is computed for: where an observer can be and when. The HTTP layer validates
// input against these (src/http/observer.ts); the sky refuses anything outside them.

export interface Range {
  readonly min: number;
  readonly max: number;
}

export const LAT_RANGE: Range = { min: -90, max: 90 };
export const LON_RANGE: Range = { min: -180, max: 180 };
/** metres: from below the Dead Sea shore to the edge of space; beyond that "an observer on Earth" stops meaning much */
export const ELEVATION_RANGE: Range = { min: -500, max: 100_000 };
/** epoch ms, [min, max): the span the ephemeris is supported (and tested) for */
export const TIME_RANGE: Range = { min: Date.UTC(1900, 0, 1), max: Date.UTC(2101, 0, 1) };
export const TIME_RANGE_TEXT = '1900-01-01T00:00:00Z to 2100-12-31T23:59:59.999Z';
