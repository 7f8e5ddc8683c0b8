// The chart's projection, shared by the bodies and the fixed sky: zenith at the centre, horizon on the circle of
// radius `radius`, altitude linear in radius; looking up with north at the top puts east on the LEFT (a mirror of a
// map), so x = -r·sin(az), y = -r·cos(az). Below the horizon: a ground band outside the circle, deeper further out.

const GROUND = 32;

/** @param {number} az @param {number} alt @param {number} radius */
export function project(az, alt, radius) {
  const r = alt >= 0 ? (radius * (90 - Math.min(alt, 90))) / 90 : radius + 8 + (GROUND - 14) * Math.min(1, -alt / 60);
  const a = (az * Math.PI) / 180;
  return { x: -r * Math.sin(a), y: -r * Math.cos(a) };
}
