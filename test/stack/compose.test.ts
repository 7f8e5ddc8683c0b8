import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.ts';
import { BUILT_ENTRIES } from '../../scripts/build.ts';
import { NGINX_TEMPLATE_VARS, parseUpstreamServers, readTemplate, renderTemplate, templateVariables } from '../../scripts/nginx-config.ts';
import { REPO_ROOT, nginxBinary, processNginxVars } from '../../scripts/stack.ts';

// The compose stack checked on paper, in every run, engine or not: commands that are not the package's serve
// scripts, ports nginx does not proxy to, env keys the app does not know, a template the image cannot render, a config
// nginx rejects. `npm run test:docker` (test/docker/) runs the same files for real.

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target: number; published: number | string })[];
  volumes?: (string | { source: string; target: string })[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
  user?: string;
}

const read = (file: string): string => readFileSync(join(REPO_ROOT, file), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const pkg = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const dockerfile = read('Dockerfile');
const template = readTemplate();
const services = compose.services;

/** Compose's `${NAME:-default}` interpolation with nothing set in the environment: the defaults. */
const interpolate = (v: string): string => v.replace(/\$\{[A-Z_][A-Z0-9_]*:-([^}]*)\}/g, '$1');

function envOf(s: Service): Record<string, string> {
  const env = s.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((kv) => [kv.slice(0, kv.indexOf('=')), interpolate(kv.slice(kv.indexOf('=') + 1))]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : interpolate(String(v))]));
}

function argv(command: string | string[] | undefined): string[] {
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.split(/\s+/);
}

/** The package.json script whose command line this is (containers run node itself, with the script's exact flags). */
function scriptOf(command: string[]): string | undefined {
  return Object.entries(pkg.scripts).find(([, line]) => line === command.join(' '))?.[0];
}

/** ENV lines of the Dockerfile's last stage, which a container inherits. */
function dockerfileEnv(): Record<string, string> {
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const m of lastStage.replace(/\\\n/g, ' ').matchAll(/^ENV\s+(.+)$/gm)) {
    for (const kv of m[1]!.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[kv[1]!] = kv[2]!;
  }
  return env;
}

/** The image's CMD, which services without a command of their own run. */
const imageCmd = JSON.parse(/^CMD\s+(\[.*\])\s*$/m.exec(dockerfile.slice(dockerfile.lastIndexOf('\nFROM ')))?.[1] ?? '[]') as string[];
const commandOf = (s: Service): string[] => (s.command === undefined ? imageCmd : argv(s.command));
const nodeServices = Object.entries(services).filter(([, s]) => s.image === 'orrery:local');
const apiServices = nodeServices.filter(([, s]) => scriptOf(commandOf(s)) === 'serve');
const nginxEnv = envOf(services.nginx ?? {});

describe('docker-compose.yml', () => {
  it('has redis, the worker, two API nodes and nginx', () => {
    expect(Object.keys(services).sort()).toEqual(['api1', 'api2', 'nginx', 'redis', 'worker']);
    expect(nodeServices.map(([name]) => name).sort()).toEqual(['api1', 'api2', 'worker']);
    expect(apiServices.map(([name]) => name).sort()).toEqual(['api1', 'api2']);
    // One service builds the image the others run: one build per `up --build`.
    expect(nodeServices.filter(([, s]) => s.build !== undefined).map(([name]) => name)).toEqual(['worker']);
  });

  it('runs the official Redis 7 image with a redis-cli ping healthcheck, the history kept in an append-only file on a volume', () => {
    const redis = services.redis!;
    expect(redis.image).toMatch(/^redis:7(\.|-|$)/);
    expect(argv(redis.healthcheck?.test as string[])).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(argv(redis.command)).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(redis.volumes).toEqual(['redis-data:/data']);
  });

  it.each(nodeServices)('%s runs one of package.json serve scripts with node, after Redis is healthy', (_, s) => {
    const script = scriptOf(commandOf(s));
    expect(script, `command ${JSON.stringify(commandOf(s))} is not a package.json script's command line`).toMatch(/^serve/);
    const line = pkg.scripts[script!];
    expect(line, `package.json has no "${script}" script`).toBeDefined();
    const entry = line!.split(/\s+/).at(-1)!;
    // A dist/ bundle exists only after `npm run build` (the image builds it): its source must exist.
    const source = Object.entries(BUILT_ENTRIES).find(([, built]) => built === entry)?.[0];
    if (entry.startsWith('dist/')) expect(source, `${entry} is not built by scripts/build.ts`).toBeDefined();
    expect(existsSync(join(REPO_ROOT, source ?? entry)), `${source ?? entry} does not exist`).toBe(true);
    expect(s.depends_on).toMatchObject({ redis: { condition: 'service_healthy' } });
    expect(s.restart).toMatch(/^(always|unless-stopped|on-failure)/);
  });

  it.each(nodeServices)('%s sets only keys of src/config.ts, each valid per loadConfig', (_, s) => {
    const env = { ...dockerfileEnv(), ...envOf(s) };
    const config = loadConfig(env);
    // loadConfig keeps exactly the keys its schema knows; anything it dropped is a typo or a stray.
    const unknown = Object.keys(envOf(s)).filter((k) => !(k in config));
    expect(unknown, 'environment keys the app does not read').toEqual([]);
    expect(config.REDIS_URL, 'Node services are joined by Redis').toBe('redis://redis:6379');
    expect(Object.keys(services)).toContain(new URL(config.REDIS_URL!).hostname);
  });

  it('has the template variables nginx needs, exactly, and renders them through the image with the ORRERY_ filter', () => {
    const set = Object.keys(nginxEnv).filter((k) => k.startsWith('ORRERY_')).sort();
    expect(set).toEqual([...NGINX_TEMPLATE_VARS].sort());
    expect(templateVariables(template).sort()).toEqual([...NGINX_TEMPLATE_VARS].sort());
    expect(nginxEnv.NGINX_ENVSUBST_FILTER).toBe('^ORRERY_');
    expect(nginxEnv.NGINX_ENVSUBST_OUTPUT_DIR).toBe('/etc/nginx');
    const volumes = (services.nginx!.volumes ?? []).map(String);
    expect(volumes).toContain('./nginx/nginx.conf.template:/etc/nginx/templates/nginx.conf.template:ro');
    expect(volumes).toContain(`./web:${nginxEnv.ORRERY_WEB_ROOT}:ro`);
    // The config says `daemon off;`: the image's default `-g "daemon off;"` would be a duplicate.
    expect(argv(services.nginx!.command)).toEqual(['nginx']);
    expect(template).toMatch(/^daemon off;$/m);
  });

  it('renders identically with envsubst (what the nginx image runs) and with our renderer', () => {
    const vars = Object.fromEntries(Object.entries(nginxEnv).filter(([k]) => k.startsWith('ORRERY_')));
    // The image's 20-envsubst-on-templates.sh passes the defined, filter-matching names as SHELL-FORMAT.
    const shellFormat = Object.keys(vars).map((k) => `\${${k}}`).join(' ');
    const out = spawnSync('envsubst', [shellFormat], { input: template, env: { PATH: process.env.PATH, ...vars }, encoding: 'utf8' });
    expect(out.error, 'envsubst (gettext-base) is needed for this check').toBeUndefined();
    expect(out.status).toBe(0);
    expect(out.stdout).toBe(renderTemplate(template, vars));
    expect(out.stdout).not.toMatch(/\$\{ORRERY_/);
    // nginx's own variables survive.
    expect(out.stdout).toContain('$upstream_addr');
    expect(out.stdout).toContain('$binary_remote_addr');
  });

  it('proxies to every API node on the port it listens on, and to nothing else', () => {
    const upstream = parseUpstreamServers(nginxEnv.ORRERY_API_SERVERS ?? '').sort();
    const expected = apiServices
      .map(([name, s]) => {
        const config = loadConfig({ ...dockerfileEnv(), ...envOf(s) });
        expect(config.HOST, `${name} must listen beyond its own loopback`).toBe('0.0.0.0');
        return `${name}:${config.PORT}`;
      })
      .sort();
    expect(upstream).toEqual(expected);
    expect(upstream.length).toBe(2);
  });

  it('publishes nginx on host port 8080 onto the port nginx listens on, and nginx waits for healthy API nodes', () => {
    const ports = (services.nginx!.ports ?? []).map(String);
    expect(ports.map(interpolate)).toEqual([`8080:${nginxEnv.ORRERY_LISTEN}`]);
    for (const [name] of apiServices) {
      expect(services.nginx!.depends_on).toMatchObject({ [name]: { condition: 'service_healthy' } });
      // API nodes are reached through nginx only.
      expect(services[name]!.ports).toBeUndefined();
    }
    expect(services.nginx!.image).toMatch(/^nginx:/);
  });
});

describe('nginx template', () => {
  /** The body of `location <name> {` up to its closing brace at the same indentation. */
  function location(name: string): string {
    const m = new RegExp(`\\n( *)location ${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\{\\n([\\s\\S]*?)\\n\\1\\}`).exec(template);
    expect(m, `location ${name}`).not.toBeNull();
    return m![2]!;
  }
  const seconds = (v: string): number => {
    const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v)!;
    return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? 's']!;
  };

  it('relays streams unbuffered, uncompressed, and outlasts the heartbeat many times over', () => {
    const stream = location('~ ^/stream(/[a-z0-9-]+)?$');
    for (const line of ['proxy_buffering off;', 'proxy_cache off;', 'gzip off;', "limit_conn streams_per_client"]) expect(stream).toContain(line);
    const readTimeout = seconds(/proxy_read_timeout (\S+);/.exec(stream)![1]!);
    for (const [, s] of nodeServices) expect(readTimeout * 1000).toBeGreaterThan(10 * loadConfig(envOf(s)).HEARTBEAT_MS);
    expect(template).not.toMatch(/gzip_types[^;]*event-stream/);
  });

  it('keeps every add_header and proxy_set_header at server level (a location-level one would drop the rest)', () => {
    const server = template.slice(template.indexOf('\n    server {'));
    const locations = server.slice(server.indexOf('\n        location'));
    expect(locations).not.toMatch(/^\s*(add_header|proxy_set_header)\b/m);
    expect(server).toMatch(/proxy_set_header Connection "";/);
    expect(server).toMatch(/proxy_http_version 1\.1;/);
  });
});

describe('Dockerfile', () => {
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)];
  const stageNames = new Set(stages.map((m) => m[2]).filter(Boolean));
  // FROM <earlier stage> builds on it; every other FROM is a base image.
  const froms = stages.map((m) => m[1]!).filter((image) => !stageNames.has(image));
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('is multi-stage on Node 24 LTS slim, with no syntax line that would need Docker Hub', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const image of froms) expect(image).toMatch(/^node:24(\.\d+)*-[a-z-]*slim$/);
    expect(dockerfile).not.toMatch(/^# *syntax=/m);
    expect(dockerfile).toMatch(/RUN npm ci --omit=dev/);
    expect(lastStage).toMatch(/COPY --from=deps \/app\/node_modules/);
  });

  it('starts the API node as node itself (signals reach it), with `npm run serve`\'s flags, as the unprivileged node user', () => {
    expect(imageCmd[0]).toBe('node');
    expect(scriptOf(imageCmd)).toBe('serve');
    expect(lastStage).toMatch(/^USER node$/m);
  });

  it('builds dist/ in a stage of its own and copies the bundles the serve scripts run', () => {
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(lastStage).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    for (const script of ['serve', 'serve:worker']) expect(pkg.scripts[script]).toMatch(/^node (\S+ )*dist\/[\w-]+\.js$/);
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    expect(ignored).toContain('dist');
    expect(ignored).toContain('!scripts/build.ts');
    // what build.ts imports travels with it
    expect(ignored).toContain('!scripts/cc.ts');
    expect(dockerfile).toMatch(/^COPY scripts\/build\.ts scripts\/cc\.ts \.\/scripts\/$/m);
    // the native fan-out writer is compiled in the build stage and travels inside dist/
    expect(dockerfile).toMatch(/^COPY native \.\/native$/m);
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends gcc libc6-dev/);
    expect(ignored).not.toContain('native');
  });

  it('copies the page into the runtime, and no build tool is a production dependency', () => {
    expect(lastStage).toMatch(/^COPY web \.\/web$/m);
    for (const tool of ['tsx', 'esbuild']) {
      expect(pkg.dependencies[tool], tool).toBeUndefined();
      expect(pkg.devDependencies[tool], tool).toBeDefined();
    }
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    expect(ignored).toContain('node_modules');
    for (const dir of ['src', 'workers', 'web']) expect(ignored).not.toContain(dir);
  });
});

describe('nginx -t on the rendered template', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function nginxTest(vars: Record<string, string>): { status: number | null; output: string } {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-nginx-t-'));
    dirs.push(dir);
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, renderTemplate(template, { ...vars, ORRERY_RUN_DIR: dir }));
    // stdout is a file, as under docker: nginx cannot open /dev/stdout on the socket Node would give it.
    const out = join(dir, 'stdout');
    const fd = openSync(out, 'w');
    const res = spawnSync(nginxBinary(), ['-t', '-p', `${dir}/`, '-c', conf, '-e', 'stderr'], { encoding: 'utf8', stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    return { status: res.status, output: `${readFileSync(out, 'utf8')}${res.stderr}` };
  }

  it('accepts the process stack variables (what npm run stack renders)', () => {
    const { status, output } = nginxTest(processNginxVars({ runDir: '/unused', nginxPort: 18080, apiPorts: [18081, 18082], streamsPerClient: 4 }));
    expect(output).toContain('test is successful');
    expect(status).toBe(0);
  });

  it('accepts the compose variables', () => {
    const vars = Object.fromEntries(Object.entries(nginxEnv).filter(([k]) => k.startsWith('ORRERY_')));
    // Three things exist only inside the compose network and the nginx image: the service names
    // (resolved when nginx starts), the image's "nginx" user and its /var/cache/nginx. Everything
    // else is tested as written.
    const local = processNginxVars({ runDir: '/unused', nginxPort: 0, apiPorts: [1] });
    const { status, output } = nginxTest({
      ...vars,
      ORRERY_API_SERVERS: vars.ORRERY_API_SERVERS!.replace(/server (api\d+):/g, 'server 127.0.0.1:'),
      ORRERY_NGINX_USER: local.ORRERY_NGINX_USER,
    });
    expect(output).toContain('test is successful');
    expect(status).toBe(0);
  });

  it('rejects a broken rendering (the check can fail)', () => {
    const vars = processNginxVars({ runDir: '/unused', nginxPort: 18080, apiPorts: [18081] });
    const { status, output } = nginxTest({ ...vars, ORRERY_STREAMS_PER_CLIENT: 'many' });
    expect(status).not.toBe(0);
    expect(output).toMatch(/invalid number of connections/);
  });
});
