// Reads V8's `--trace-gc` lines, to tell whether a slow second of a benchmark window was a GC pause in a server.
// A line looks like
//   [3781:0x329ea880]      215 ms: Mark-Compact 60.4 (77.4) -> 49.7 (84.6) MB, 30.64 / 0.00 ms  (+ 10.5 ms in …) … reason
// where 215 is milliseconds since the isolate started and 30.64 the main thread's pause. V8 13 (Node 24) adds
// `pooled: 0 MB, ` before the pause.

export interface GcPause {
  /** epoch ms, as `originMs` + the line's isolate time */
  at: number;
  pauseMs: number;
  /** Scavenge, Mark-Compact, Mark-Compact (reduce), Minor Mark-Sweep, … */
  kind: string;
}

const LINE = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: (.+?) [\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;

/** The GC events of a process's output; `originMs` is when its isolate started (≈ when it was spawned). */
export function parseGcTrace(text: string, originMs: number): GcPause[] {
  const out: GcPause[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (m) out.push({ at: originMs + Number(m[1]), kind: m[2]!, pauseMs: Number(m[3]) });
  }
  return out;
}
