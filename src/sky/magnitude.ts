import { Body } from 'astronomy-engine';
import { DEG, RAD2DEG } from './track.ts';

// Visual magnitude and illuminated fraction from Illumination()'s geometry (geocentric and
// heliocentric vectors, Saturn's ring tilt). The geometry is interpolated from knots because it is
// smooth; the magnitude laws are not (Venus switches formula at a 163.6° phase angle, the Moon's law
// uses |phase|), so they are applied afterwards, with astronomy-engine's own coefficients
// (VisualMagnitude, MoonMagnitude, SaturnMagnitude in astronomy.js).

const ASEC180 = 180 * 60 * 60;
const AU_PER_PARSEC = ASEC180 / Math.PI;
const SUN_MAG_1AU = -0.17 - 5 * Math.log10(AU_PER_PARSEC);
const MOON_MEAN_DISTANCE_AU = 385000.6 / 1.4959787069098932e8;

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
  if (body === Body.Sun) return { magnitude: SUN_MAG_1AU + 5 * Math.log10(geoDist), phase: 1 };
  const helioDist = Math.hypot(g[3]!, g[4]!, g[5]!);
  const phaseAngle = angleBetweenDeg(g);
  let mag: number;
  if (body === Body.Moon) {
    const rad = phaseAngle * DEG;
    const rad4 = rad * rad * rad * rad;
    mag = -12.717 + 1.49 * Math.abs(rad) + 0.0431 * rad4 + 5 * Math.log10(helioDist * (geoDist / MOON_MEAN_DISTANCE_AU));
  } else if (body === Body.Saturn) {
    const sinTilt = Math.sin(Math.abs(g[6]! * DEG));
    mag = -9.0 + 0.044 * phaseAngle + sinTilt * (-2.6 + 1.2 * sinTilt) + 5 * Math.log10(helioDist * geoDist);
  } else {
    let c0: number;
    let c1 = 0;
    let c2 = 0;
    let c3 = 0;
    switch (body) {
      case Body.Mercury:
        c0 = -0.6; c1 = 4.98; c2 = -4.88; c3 = 3.02;
        break;
      case Body.Venus:
        if (phaseAngle < 163.6) {
          c0 = -4.47; c1 = 1.03; c2 = 0.57; c3 = 0.13;
        } else {
          c0 = 0.98; c1 = -1.02;
        }
        break;
      case Body.Mars:
        c0 = -1.52; c1 = 1.6;
        break;
      case Body.Jupiter:
        c0 = -9.4; c1 = 0.5;
        break;
      case Body.Uranus:
        c0 = -7.19; c1 = 0.25;
        break;
      case Body.Neptune:
        c0 = -6.87;
        break;
      case Body.Pluto:
        c0 = -1.0; c1 = 4.0;
        break;
      default:
        throw new Error(`no magnitude law for ${body}`);
    }
    const x = phaseAngle / 100;
    mag = c0 + x * (c1 + x * (c2 + x * c3)) + 5 * Math.log10(helioDist * geoDist);
  }
  return { magnitude: mag, phase: (1 + Math.cos(DEG * phaseAngle)) / 2 };
}
