// The Geolocation API as a promise that always settles, with a reason a person can read.

/** @typedef {{ ok: true, lat: number, lon: number, elevation: number | null, accuracyM: number }} GeoFix */
/** @typedef {{ ok: false, reason: 'unsupported' | 'denied' | 'unavailable' | 'timeout', message: string }} GeoFailure */

/** @param {number} [timeoutMs] @returns {Promise<GeoFix | GeoFailure>} */
export function locate(timeoutMs = 15_000) {
  if (!('geolocation' in navigator) || !window.isSecureContext) {
    return Promise.resolve({
      ok: false,
      reason: 'unsupported',
      message: window.isSecureContext ? 'This browser cannot share its location.' : 'Location needs HTTPS or localhost.',
    });
  }
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (pos) =>
        resolve({
          ok: true,
          lat: pos.coords.latitude,
          lon: pos.coords.longitude,
          elevation: pos.coords.altitude,
          accuracyM: pos.coords.accuracy,
        }),
      (err) => {
        /** @type {GeoFailure['reason']} */
        const reason = err.code === err.PERMISSION_DENIED ? 'denied' : err.code === err.TIMEOUT ? 'timeout' : 'unavailable';
        const message = {
          denied: 'Location access was not allowed.',
          timeout: 'Finding your location took too long.',
          unavailable: 'Your location is not available right now.',
          unsupported: '',
        }[reason];
        resolve({ ok: false, reason, message });
      },
      { enableHighAccuracy: false, timeout: timeoutMs, maximumAge: 600_000 },
    );
  });
}
