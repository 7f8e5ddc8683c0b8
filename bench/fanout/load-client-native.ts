import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Plan, Window } from './load-client.ts';

// The native load client behind load-client.ts's IPC protocol: bench/fanout.ts forks this file (argv[2] = the binary
// built by native-client.ts) exactly as it forks load-client.ts. The plan goes to the binary's stdin as lines,
// `window` / `report` / `stop` as one line each; each line the binary prints is one JSON IPC message (progress,
// connected, result), forwarded as is. The binary's CPU, not this process's, is what its result's cpuMs measures.

const binary = process.argv[2];
if (!binary) throw new Error('usage: load-client-native.ts <load-client binary>');

let child: ChildProcess | undefined;
let stopping = false;
const pending: string[] = [];

function start(plan: Plan): void {
  const c = spawn(binary!, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  child = c;
  createInterface({ input: c.stdout! }).on('line', (line) => {
    if (line.trim()) process.send!(JSON.parse(line) as object);
  });
  c.on('exit', (code, signal) => {
    if (stopping) process.exit(0);
    process.stderr.write(`load-client-native: the binary exited (${signal ?? code}) before stop\n`);
    process.exit(1);
  });
  const lines = [`host ${plan.host}`, `concurrency ${plan.concurrency}`];
  for (const p of plan.paths) {
    if (/\s/.test(p)) throw new Error(`path with whitespace: ${JSON.stringify(p)}`);
    lines.push(`path ${p}`);
  }
  for (const [port, channel, addr] of plan.connections) lines.push(`conn ${port} ${channel} ${addr}`);
  lines.push('go', ...pending.splice(0));
  c.stdin!.write(`${lines.join('\n')}\n`);
}

function command(line: string): void {
  if (child) child.stdin!.write(`${line}\n`);
  else pending.push(line);
}

function stop(): void {
  stopping = true;
  if (!child || child.exitCode !== null || child.signalCode !== null) process.exit(0);
  child.stdin!.end('stop\n');
  setTimeout(() => child?.kill('SIGKILL'), 3000).unref();
}

process.on('message', (m: Plan | Window | { type: 'report' } | { type: 'stop' }) => {
  switch (m.type) {
    case 'plan':
      start(m);
      break;
    case 'window':
      command(`window ${m.w0} ${m.w1}`);
      break;
    case 'report':
      command('report');
      break;
    case 'stop':
      stop();
      break;
  }
});
// The parent going away must not leave thousands of sockets open (the binary also exits on EOF of its stdin).
process.on('disconnect', stop);
