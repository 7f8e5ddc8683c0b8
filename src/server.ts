import { serve } from '@hono/node-server';
import { loadConfig } from './config.ts';
import { createApp } from './http/app.ts';

// Composition root. SKELETON: config → app → serve(); the broker, hub and embedded worker join here.

const config = loadConfig();
const app = createApp();
const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  console.log(`orrery listening on http://localhost:${info.port}`);
});

const stop = (): void => {
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
