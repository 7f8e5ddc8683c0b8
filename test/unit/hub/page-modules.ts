// The page's own modules (plain JS, type-checked through their JSDoc by `tsc -p web`), loaded in Node as the browser
// loads them, with the types the tests use. Through a computed specifier: the root tsconfig does not read JS.

export interface PictureBody {
  name: string;
  [field: string]: unknown;
}
/** web/js/stream-format.js Picture */
export interface Picture {
  time: string;
  location?: unknown;
  publishedAt?: number;
  bodies: PictureBody[];
}

const load = (file: string): Promise<unknown> => import(new URL(`../../../web/js/${file}`, import.meta.url).href);

export const { applyFrame } = (await load('stream-format.js')) as {
  applyFrame(picture: Picture | null, eventType: string, data: string): Picture | null;
};

export const { compassPoint, formatDec, formatMagnitude, formatNumber, formatRA } = (await load('format.js')) as {
  compassPoint(az: number): string;
  formatDec(degrees: number): string;
  formatMagnitude(value: number): string;
  formatNumber(value: number, decimals: number): string;
  formatRA(hours: number): string;
};

/** Everything the page renders of a picture (web/js/table.js, chart.js, app.js), as text. */
export function displayed(p: Picture): Record<string, unknown> {
  const bodies = Object.fromEntries(
    p.bodies.map((raw) => {
      const b = raw as unknown as Record<string, number>;
      const shown = [
        formatNumber(b.az!, 2), compassPoint(b.az!), formatNumber(b.az!, 1),
        formatNumber(b.alt!, 2), formatNumber(b.alt!, 1), formatNumber(b.alt!, 0), Math.round(b.alt!),
        formatRA(b.ra!), formatDec(b.dec!), formatMagnitude(b.magnitude!), Math.round(b.phase! * 100),
        raw.constellation, raw.aboveHorizon, raw.rise, raw.transit, raw.set,
        // not shown by the page; the delta format keeps it to five significant digits
        b.distance!.toPrecision(5),
      ];
      return [raw.name, shown];
    }),
  );
  return { time: p.time, location: p.location, bodies };
}
