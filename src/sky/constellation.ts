import { AstroTime, Constellation, Rotation_EQJ_EQD } from 'astronomy-engine';
import { CONSTELLATION_EPOCH_UT } from './astronomy-mirror.ts';
import { RAD2DEG, RAD2HOUR } from './track.ts';

// Constellation lookup with a cell cache, equal to astronomy-engine's Constellation().
//
// Constellation() precesses the direction to the B1875 equinox and scans the IAU boundary table, whose
// edges all lie on a lattice: declinations in steps of 1/24° and right ascensions in steps of 1/360 h
// (ConstelBounds' compact units). So the answer is constant over each lattice cell, and one call per
// cell is enough; later lookups in the cell cost a rotation and a Map hit instead of a ~350-row scan.
// Points within a hair of a lattice line (where rounding could put them in the neighbouring cell)
// always go to Constellation() itself.
//
// The cell cache is shared (a memo of a pure function); the scratch of a lookup is a ConstellationLookup's
// own, so lookups are re-entrant and allocate nothing.

// The same B1875 rotation Constellation() builds (astronomy.js: ConstelRot).
const ROT = Rotation_EQJ_EQD(new AstroTime(CONSTELLATION_EPOCH_UT)).rot;
const R00 = ROT[0]![0]!, R01 = ROT[0]![1]!, R02 = ROT[0]![2]!;
const R10 = ROT[1]![0]!, R11 = ROT[1]![1]!, R12 = ROT[1]![2]!;
const R20 = ROT[2]![0]!, R21 = ROT[2]![1]!, R22 = ROT[2]![2]!;

const RA_CELLS = 24 * 360;
/** Distance from a lattice line, in cells, below which we do not trust the cell index. */
const EDGE = 1e-7;
const MAX_CELLS = 65_536;
const CELLS = new Map<number, string>();

function reference(x: number, y: number, z: number): string {
  let lon = RAD2DEG * Math.atan2(y, x);
  if (lon < 0) lon += 360;
  const dec = RAD2DEG * Math.atan2(z, Math.sqrt(x * x + y * y));
  try {
    return Constellation(lon / 15, dec).symbol;
  } catch {
    // Constellation() throws when its B1875 right ascension rounds up to exactly 24 h (a direction
    // within ~1e-13 rad of the B1875 equinox meridian). A nanoradian step east is the same answer.
    return Constellation((lon + 1e-7) / 15, dec).symbol;
  }
}

/** Constellation lookups of one caller; holds the B1875 position of the last direction it rotated. */
export class ConstellationLookup {
  /** B1875 position of the last direction given to b1875(), in lattice units (RA cells, Dec cells from −90°). */
  private fr = 0;
  private fd = 0;

  private b1875(ux: number, uy: number, uz: number): void {
    const bx = R00 * ux + R10 * uy + R20 * uz;
    const by = R01 * ux + R11 * uy + R21 * uz;
    const bz = R02 * ux + R12 * uy + R22 * uz;
    let ra = RAD2HOUR * Math.atan2(by, bx);
    if (ra < 0) ra += 24;
    this.fr = ra * 360;
    this.fd = (RAD2DEG * Math.atan2(bz, Math.sqrt(bx * bx + by * by)) + 90) * 24;
  }

  /** IAU abbreviation of the constellation containing the direction (x, y, z), J2000 equator (EQJ). */
  of(x: number, y: number, z: number): string {
    // Unit vector first: Constellation() goes through (ra, dec) and back to a unit vector.
    const n = 1 / Math.sqrt(x * x + y * y + z * z);
    const ux = x * n;
    const uy = y * n;
    const uz = z * n;
    this.b1875(ux, uy, uz);
    const fr = this.fr;
    const fd = this.fd;
    if (Math.abs(fr - Math.round(fr)) < EDGE || Math.abs(fd - Math.round(fd)) < EDGE) return reference(ux, uy, uz);
    const key = Math.floor(fd) * RA_CELLS + Math.floor(fr);
    let symbol = CELLS.get(key);
    if (symbol === undefined) {
      symbol = reference(ux, uy, uz);
      if (CELLS.size >= MAX_CELLS) CELLS.delete(CELLS.keys().next().value!);
      CELLS.set(key, symbol);
    }
    return symbol;
  }

  /**
   * The constellation of every direction x − o with |o| ≤ radius (a body seen from anywhere within
   * `radius` of the Earth's centre, all in AU), when they all share one lattice cell with x; else null.
   * The grid uses it to look a planet's constellation up once per tick instead of once per location.
   */
  within(x: number, y: number, z: number, radius: number): string | null {
    const d = Math.sqrt(x * x + y * y + z * z);
    if (!(radius < d)) return null;
    // Angular radius of the cap the directions fill, degrees, with a margin for rounding.
    const cap = RAD2DEG * Math.asin(radius / d) + 1e-6;
    this.b1875(x / d, y / d, z / d);
    const fr = this.fr;
    const fd = this.fd;
    const decDeg = fd / 24 - 90;
    const decLo = Math.floor(fd) / 24 - 90;
    if (decDeg - cap <= decLo || decDeg + cap >= decLo + 1 / 24) return null;
    const cosMax = Math.cos((Math.max(Math.abs(decDeg - cap), Math.abs(decDeg + cap)) * Math.PI) / 180);
    const sinCap = Math.sin((cap * Math.PI) / 180);
    if (!(sinCap < cosMax)) return null;
    // Largest RA excursion over the cap, in RA cells (1 cell = 1/360 h = 1/24°).
    const dRa = RAD2DEG * Math.asin(sinCap / cosMax) * 24;
    const raLo = Math.floor(fr);
    if (fr - dRa <= raLo || fr + dRa >= raLo + 1) return null;
    return this.of(x, y, z);
  }
}

/** For tests: forget every cached cell. */
export function clearConstellationCache(): void {
  CELLS.clear();
}
