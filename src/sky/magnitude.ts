import { Body } from 'astronomy-engine';
import { visualMagnitude } from './astronomy-mirror.ts';
import { DEG, RAD2DEG } from './track.ts';

// Visual magnitude and illuminated fraction from Illumination()'s geometry (geocentric and
// heliocentric vectors, Saturn's ring tilt). The geometry is interpolated from knots because it is
// smooth; the magnitude laws are not (Venus switches formula at a 163.6° phase angle, the Moon's law
// uses |phase|), so they are applied afterwards (astronomy-mirror.ts holds the laws).

export interface Brightness {
  magnitude: number;
  /** illuminated fraction, 0..1 */
  phase: number;
}

function angleBetweenDeg(g: Float64Array): number {
  const aa = g[0]! * g[0]! + g[1]! * g[1]! + g[2]! * g[2]!;
  const bb = g[3]! * g[3]! + g[4]! * g[4]! + g[5]! * g[5]!;
  const dot = (g[0]! * g[3]! + g[1]! * g[4]! + g[2]! * g[5]!) / Math.sqrt(aa * bb);
  if (dot <= -1) return 180;
  if (dot >= 1) return 0;
  return RAD2DEG * Math.acos(dot);
}

/** g: [gc(3), hc(3), Saturn ring tilt in degrees] as from topocentric.illuminationAt(). */
export function brightness(body: Body, g: Float64Array): Brightness {
  const geoDist = Math.hypot(g[0]!, g[1]!, g[2]!);
  if (body === Body.Sun) return { magnitude: visualMagnitude(body, 0, 0, geoDist, 0), phase: 1 };
  const helioDist = Math.hypot(g[3]!, g[4]!, g[5]!);
  const phaseAngle = angleBetweenDeg(g);
  const magnitude = visualMagnitude(body, phaseAngle, helioDist, geoDist, g[6]!);
  return { magnitude, phase: (1 + Math.cos(DEG * phaseAngle)) / 2 };
}
