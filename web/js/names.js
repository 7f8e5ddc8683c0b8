// Names a person reads: countries from their ISO code, time zones for display.

import { isKnownTimeZone } from './format.js';

/** @type {Intl.DisplayNames | null | undefined} built once: it is slow to construct and used for every city */
let regionNames;
/** @type {Map<string, string>} */
const countryNames = new Map();

/** @param {string} code */
export function countryName(code) {
  let name = countryNames.get(code);
  if (name === undefined) {
    name = lookUpCountry(code);
    countryNames.set(code, name);
  }
  return name;
}

/** @param {string} code */
function lookUpCountry(code) {
  if (regionNames === undefined) {
    try {
      regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
    } catch {
      regionNames = null;
    }
  }
  try {
    return regionNames?.of(code) ?? code;
  } catch {
    return code; // not a region code Intl knows
  }
}

/** A zone this browser can format in, else UTC. @param {string} zone */
export const usableZone = (zone) => (isKnownTimeZone(zone) ? zone : 'UTC');
