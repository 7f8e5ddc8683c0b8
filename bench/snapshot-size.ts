import { gzipSync } from 'node:zlib';
import { createMemoryBroker } from '../src/broker/memory.ts';
import { messageFrame } from '../src/hub/hub.ts';
import { silentLogger } from '../src/log.ts';
import { LOCATIONS } from '../src/sky/locations.ts';
import { createSkyTick } from '../src/worker/sky-publisher.ts';

// The size of what one tick puts on the wire, measured on the real thing: the worker's own tick function publishes
// the whole grid into a memory broker, and each snapshot is framed the way the hub frames it for every client.
// Feeds the egress arithmetic in README.md (## Scaling).
//
//   node --import tsx bench/snapshot-size.ts [--ticks 5]

const ticks = Math.min(Math.max(Number(process.argv[process.argv.indexOf('--ticks') + 1]) || 5, 1), 60);

const broker = createMemoryBroker({ historyLimit: ticks });
const data: number[] = [];
const frames: number[] = [];
const gzipped: number[] = [];
for (const location of LOCATIONS) {
  await broker.subscribe(location.id, (m) => {
    data.push(Buffer.byteLength(m.data));
    const f = messageFrame(m).frame;
    frames.push(f.length);
    gzipped.push(gzipSync(f).length);
  });
}
const tick = createSkyTick({ broker, locations: LOCATIONS, log: silentLogger });
const start = Math.floor(Date.now() / 1000) * 1000;
for (let i = 0; i < ticks; i++) await tick(start + i * 1000);
await broker.close();

const stats = (xs: number[]): string => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return `mean ${Math.round(mean)} B, min ${sorted[0]} B, max ${sorted.at(-1)} B`;
};
console.log(`${LOCATIONS.length} locations × ${ticks} ticks = ${data.length} snapshots`);
console.log(`snapshot JSON (SSE data):         ${stats(data)}`);
console.log(`SSE frame (id + event + data):    ${stats(frames)}`);
console.log(`one frame gzipped on its own:     ${stats(gzipped)}`);
console.log(`per tick, whole grid, JSON:       ${Math.round(data.reduce((s, x) => s + x, 0) / ticks / 1024)} KiB`);
