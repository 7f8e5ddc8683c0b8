// What can be seen right now, by the rule GET /tonight uses (api-constants.js VISIBILITY, generated from src/sky):
// high enough, bright enough for the naked eye, and a sky dark enough for that brightness. The Moon is seen by day too;
// the Sun is never listed (it is not something to look at).

import { VISIBILITY } from './api-constants.js';
import { BODY_STYLE } from './bodies.js';

/** @typedef {import('./api.js').BodyPosition} BodyPosition */

/**
 * @param {BodyPosition[]} bodies
 * @returns {{ visible: BodyPosition[], why: string }} visible highest first; why: when none, the reason in words
 */
export function visibleNow(bodies) {
  const sun = bodies.find((b) => b.name === 'sun');
  const sunAlt = sun?.alt ?? -90;
  const darkEnough = (/** @type {BodyPosition} */ b) =>
    b.name === 'moon' || sunAlt <= (b.magnitude <= VISIBILITY.brightMagnitude ? VISIBILITY.brightSunBelow : VISIBILITY.faintSunBelow);
  const visible = bodies
    .filter((b) => b.name !== 'sun' && b.alt >= VISIBILITY.minAltitude && b.magnitude <= VISIBILITY.nakedEye && darkEnough(b))
    .sort((a, b) => b.alt - a.alt);
  if (visible.length > 0) return { visible, why: '' };
  if (sunAlt > VISIBILITY.brightSunBelow) {
    const moon = bodies.find((b) => b.name === 'moon');
    const sky = sunAlt > 0 ? 'the Sun is up' : `the Sun is only ${Math.round(-sunAlt)}° below the horizon`;
    const moonWords = moon && moon.alt < VISIBILITY.minAltitude ? `, and the Moon is ${moon.alt < 0 ? 'below the horizon' : 'too low'}` : '';
    return { visible, why: `Nothing to see with the naked eye: the sky is too bright (${sky})${moonWords}.` };
  }
  const high = bodies.filter((b) => b.name !== 'sun' && b.magnitude <= VISIBILITY.nakedEye && b.alt >= VISIBILITY.minAltitude);
  if (high.length > 0) {
    return { visible, why: `Not dark enough yet for ${high.map((b) => BODY_STYLE[b.name].label).join(', ')} (the Sun is ${Math.round(-sunAlt)}° down; they need 18°).` };
  }
  return { visible, why: `Nothing bright enough stands ${VISIBILITY.minAltitude}° above the horizon right now.` };
}
