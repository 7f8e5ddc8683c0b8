import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Renders nginx/nginx.conf.template. The docker stack renders the same file with the official image's
// envsubst (filtered to ORRERY_*); this renderer is stricter: a variable nobody gave is an error, not "".

export const TEMPLATE_PATH = fileURLToPath(new URL('../nginx/nginx.conf.template', import.meta.url));

/** Every variable the template uses; the compose file and the process launcher set exactly these. */
export const NGINX_TEMPLATE_VARS = [
  'ORRERY_NGINX_USER',
  'ORRERY_RUN_DIR',
  'ORRERY_LISTEN',
  'ORRERY_API_SERVERS',
  'ORRERY_WEB_ROOT',
  'ORRERY_ACCESS_LOG',
  'ORRERY_STREAMS_PER_CLIENT',
  'ORRERY_EXPOSE_UPSTREAM',
] as const;

export type NginxVar = (typeof NGINX_TEMPLATE_VARS)[number];
export type NginxVars = Record<NginxVar, string>;

const PLACEHOLDER = /\$\{(ORRERY_[A-Z0-9_]+)\}/g;

/** The ORRERY_* names a template refers to, in order of first use. */
export function templateVariables(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/** Substitutes ${ORRERY_*}; anything else (nginx's own $variables) is left as it is. */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`nginx template variable ${name} has no value`);
    return value;
  });
}

export function readTemplate(): string {
  return readFileSync(TEMPLATE_PATH, 'utf8');
}

/** `server host:port;` lines for the upstream block. */
export function upstreamServers(addresses: readonly string[]): string {
  if (addresses.length === 0) throw new Error('the upstream needs at least one API node');
  return addresses.map((a) => `server ${a};`).join(' ');
}

/** Parses the addresses back out of an ORRERY_API_SERVERS value (used by the consistency test). */
export function parseUpstreamServers(value: string): string[] {
  return [...value.matchAll(/server\s+([^\s;]+)[^;]*;/g)].map((m) => m[1]!);
}
