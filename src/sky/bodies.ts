import { Body } from 'astronomy-engine';
import { BODY_NAMES, type BodyName } from './types.ts';

export const ENGINE_BODY: Readonly<Record<BodyName, Body>> = {
  sun: Body.Sun,
  moon: Body.Moon,
  mercury: Body.Mercury,
  venus: Body.Venus,
  mars: Body.Mars,
  jupiter: Body.Jupiter,
  saturn: Body.Saturn,
  uranus: Body.Uranus,
  neptune: Body.Neptune,
  pluto: Body.Pluto,
};

/** Case-insensitive lookup; undefined for anything that is not one of the ten bodies. */
export function parseBodyName(raw: string): BodyName | undefined {
  const name = raw.toLowerCase();
  return (BODY_NAMES as readonly string[]).includes(name) ? (name as BodyName) : undefined;
}

export { BODY_NAMES };
