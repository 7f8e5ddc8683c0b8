# One image for every Node service of the stack: the API node (the default command) and the worker
# (`node dist/ephemeris-worker.js`). No `# syntax=` line: it makes BuildKit fetch its frontend from Docker Hub, and the
# classic builder needs none. Node 24 LTS.

# --- deps: production dependencies only, exactly as locked (tsx and esbuild are build tools, not among them) ---
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- build: dist/server.js and dist/ephemeris-worker.js (esbuild, through tsx: both development dependencies) and the
#     API nodes' native fan-out writer dist/fanout.node (native/fanout.c against the image's Node-API headers) ---
FROM node:24-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.ts scripts/cc.ts ./scripts/
COPY native ./native
COPY src ./src
COPY workers ./workers
RUN npm run build

# --- runtime: production node_modules, the bundles and the page; node runs the bundles directly ---
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY web ./web
COPY --from=build /app/dist ./dist
# The base image's unprivileged user; the files stay root-owned and read-only to it.
USER node
EXPOSE 8080
# API nodes answer /healthz on PORT; the worker on METRICS_PORT (docker-compose.yml sets it), so the check asks
# METRICS_PORT when it is set. The timeout is generous: a node busy with tens of thousands of streams, or a machine
# loaded by a build, must not be restarted for a slow answer.
HEALTHCHECK --interval=10s --timeout=10s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node itself, not npm: SIGTERM from `docker stop` reaches the process that drains (npm would stay resident between).
# The flags are `npm run serve`'s (package.json): the V8 heap settings measured for many streams (BENCHMARKS.md).
CMD ["node", "--max-semi-space-size=2", "--heap-growing-percent=30", "dist/server.js"]
