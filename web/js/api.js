// The on-demand HTTP routes, as the page uses them. Relative URLs only: the same files are served
// by the API itself (embedded mode) and by nginx in the stack.

/**
 * @typedef {{ lat: number, lon: number, elevation: number }} Observer
 * @typedef {{ id: string, name: string, country: string, lat: number, lon: number, elevation: number, timezone: string }} Location
 * @typedef {{ name: import('./bodies.js').BodyName, az: number, alt: number, ra: number, dec: number, distance: number,
 *   magnitude: number, phase: number, constellation: string, aboveHorizon: boolean,
 *   rise: string | null, transit: string | null, set: string | null }} BodyPosition
 * @typedef {{ location: Location, time: string, bodies: BodyPosition[], publishedAt: number }} Snapshot
 * @typedef {{ time: string, observer: Observer, refraction: string, bodies: BodyPosition[] }} PlanetsResponse
 * @typedef {{ location: Location, distanceKm: number, stream: string }} NearestResponse
 */

/** A 4xx/5xx answer, carrying the server's `{ error, message }`. */
export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * @template T
 * @param {string} url
 * @param {AbortSignal} [signal]
 * @returns {Promise<T>}
 */
export async function getJson(url, signal) {
  const res = await fetch(url, { signal, headers: { accept: 'application/json' } });
  /** @type {any} */
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy error page, say): reported below with the status alone.
  }
  if (!res.ok) {
    const code = typeof body?.error === 'string' ? body.error : `http_${res.status}`;
    const message = typeof body?.message === 'string' ? body.message : `${url} answered ${res.status}`;
    throw new ApiError(res.status, code, message);
  }
  return /** @type {T} */ (body);
}

/** @param {AbortSignal} [signal] @returns {Promise<Location[]>} */
export async function fetchLocations(signal) {
  const body = /** @type {{ locations: Location[] }} */ (await getJson('/locations', signal));
  return body.locations;
}

/** @param {number} lat @param {number} lon @param {AbortSignal} [signal] @returns {Promise<NearestResponse>} */
export function fetchNearest(lat, lon, signal) {
  return getJson(`/locations/nearest?${new URLSearchParams({ lat: String(lat), lon: String(lon) })}`, signal);
}

/** @param {Observer} o @param {AbortSignal} [signal] @returns {Promise<PlanetsResponse>} */
export function fetchPlanets(o, signal) {
  const q = new URLSearchParams({ lat: String(o.lat), lon: String(o.lon), elevation: String(o.elevation) });
  return getJson(`/planets?${q}`, signal);
}

/** Whether an error is only the abort we asked for (a newer request replaced this one). @param {unknown} err */
export const isAbort = (err) => err instanceof DOMException && err.name === 'AbortError';
