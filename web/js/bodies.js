// How each body looks on the page. The names and their order are the server's (api-constants.js).

import { BODY_NAMES } from './api-constants.js';

/** @typedef {import('./api-constants.js').BodyName} BodyName */

export { BODY_NAMES };

/**
 * label, astronomical symbol, and marker colour (chosen to read on the dark sky, not photographic truth).
 * @type {Readonly<Record<BodyName, { label: string, symbol: string, color: string }>>}
 */
export const BODY_STYLE = {
  sun: { label: 'Sun', symbol: '☉', color: '#ffd25e' },
  moon: { label: 'Moon', symbol: '☾', color: '#e4e8f2' },
  mercury: { label: 'Mercury', symbol: '☿', color: '#b9b2a8' },
  venus: { label: 'Venus', symbol: '♀', color: '#fff1c7' },
  mars: { label: 'Mars', symbol: '♂', color: '#ff7b54' },
  jupiter: { label: 'Jupiter', symbol: '♃', color: '#f2c38f' },
  saturn: { label: 'Saturn', symbol: '♄', color: '#e8d28a' },
  uranus: { label: 'Uranus', symbol: '⛢', color: '#8fe3e6' },
  neptune: { label: 'Neptune', symbol: '♆', color: '#7ea6ff' },
  pluto: { label: 'Pluto', symbol: '♇', color: '#c7a58d' },
};

/** The 88 IAU constellations by their three-letter abbreviation. */
export const CONSTELLATIONS = /** @type {Readonly<Record<string, string>>} */ ({
  And: 'Andromeda', Ant: 'Antlia', Aps: 'Apus', Aqr: 'Aquarius', Aql: 'Aquila', Ara: 'Ara', Ari: 'Aries',
  Aur: 'Auriga', Boo: 'Boötes', Cae: 'Caelum', Cam: 'Camelopardalis', Cnc: 'Cancer', CVn: 'Canes Venatici',
  CMa: 'Canis Major', CMi: 'Canis Minor', Cap: 'Capricornus', Car: 'Carina', Cas: 'Cassiopeia', Cen: 'Centaurus',
  Cep: 'Cepheus', Cet: 'Cetus', Cha: 'Chamaeleon', Cir: 'Circinus', Col: 'Columba', Com: 'Coma Berenices',
  CrA: 'Corona Australis', CrB: 'Corona Borealis', Crv: 'Corvus', Crt: 'Crater', Cru: 'Crux', Cyg: 'Cygnus',
  Del: 'Delphinus', Dor: 'Dorado', Dra: 'Draco', Equ: 'Equuleus', Eri: 'Eridanus', For: 'Fornax', Gem: 'Gemini',
  Gru: 'Grus', Her: 'Hercules', Hor: 'Horologium', Hya: 'Hydra', Hyi: 'Hydrus', Ind: 'Indus', Lac: 'Lacerta',
  Leo: 'Leo', LMi: 'Leo Minor', Lep: 'Lepus', Lib: 'Libra', Lup: 'Lupus', Lyn: 'Lynx', Lyr: 'Lyra', Men: 'Mensa',
  Mic: 'Microscopium', Mon: 'Monoceros', Mus: 'Musca', Nor: 'Norma', Oct: 'Octans', Oph: 'Ophiuchus', Ori: 'Orion',
  Pav: 'Pavo', Peg: 'Pegasus', Per: 'Perseus', Phe: 'Phoenix', Pic: 'Pictor', Psc: 'Pisces', PsA: 'Piscis Austrinus',
  Pup: 'Puppis', Pyx: 'Pyxis', Ret: 'Reticulum', Sge: 'Sagitta', Sgr: 'Sagittarius', Sco: 'Scorpius', Scl: 'Sculptor',
  Sct: 'Scutum', Ser: 'Serpens', Sex: 'Sextans', Tau: 'Taurus', Tel: 'Telescopium', Tri: 'Triangulum',
  TrA: 'Triangulum Australe', Tuc: 'Tucana', UMa: 'Ursa Major', UMi: 'Ursa Minor', Vel: 'Vela', Vir: 'Virgo',
  Vol: 'Volans', Vul: 'Vulpecula',
});

/** Full constellation name, or the abbreviation itself when it is not one of the 88. @param {string} abbr */
export const constellationName = (abbr) => CONSTELLATIONS[abbr] ?? abbr;
