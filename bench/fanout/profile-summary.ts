import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

// Where an API node's CPU went: self time by function (and inclusive time of a few frames) from a .cpuprofile written
// by `bench:fanout --profile`, optionally only over [from, to] seconds since the profile started.
//
//   node --import tsx bench/fanout/profile-summary.ts <file.cpuprofile> [fromS] [toS] [top]

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, fromArg, toArg, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [fromS] [toS] [top]');
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const from = fromArg ? Number(fromArg) * 1e6 : 0;
const to = toArg ? Number(toArg) * 1e6 : Infinity;
const top = Number(topArg ?? 30);

const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: Node): string => {
  const f = n.callFrame;
  const where = f.url ? `${basename(f.url)}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let t = 0;
let total = 0;
let idle = 0;
for (let i = 0; i < p.samples.length; i++) {
  t += p.timeDeltas[i]!;
  if (t < from || t > to) continue;
  const dt = p.timeDeltas[i + 1] ?? 0;
  const node = byId.get(p.samples[i]!)!;
  const name = label(node);
  if (node.callFrame.functionName === '(idle)') {
    idle += dt;
    continue;
  }
  total += dt;
  self.set(name, (self.get(name) ?? 0) + dt);
  const seen = new Set<string>();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const l = label(byId.get(id)!);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + dt);
  }
}
const ms = (us: number): string => (us / 1000).toFixed(0).padStart(7);
const pct = (us: number): string => ((100 * us) / total).toFixed(1).padStart(5);
console.log(`${file}: busy ${ms(total)} ms, idle ${ms(idle)} ms over ${((Math.min(to, p.endTime - p.startTime) - from) / 1e6).toFixed(1)} s`);
console.log('--- self ---');
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)} ms ${pct(v)}%  ${k}`);
console.log('--- inclusive ---');
for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)} ms ${pct(v)}%  ${k}`);
