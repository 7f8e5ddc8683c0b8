import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseGcTrace } from '../../../bench/fanout/gc-trace.ts';

// bench:fanout --trace-gc reads what V8 itself prints: run a real node with --trace-gc, force collections whose kind
// and rough timing are known, and read them back.

describe('parseGcTrace', () => {
  it('finds the forced full GCs of a real node --trace-gc run, timed after the origin and in order', () => {
    const origin = Date.now();
    const out = execFileSync(
      process.execPath,
      ['--trace-gc', '--expose-gc', '-e', 'const a = []; for (let i = 0; i < 3e5; i++) a.push({ i }); gc(); setTimeout(() => gc(), 300);'],
      { encoding: 'utf8' },
    );
    const end = Date.now();
    const events = parseGcTrace(out, origin);
    const full = events.filter((e) => e.kind.startsWith('Mark-Compact'));
    expect(full.length).toBeGreaterThanOrEqual(2);
    for (const e of events) {
      expect(e.pauseMs).toBeGreaterThanOrEqual(0);
      expect(e.at).toBeGreaterThanOrEqual(origin);
      expect(e.at).toBeLessThanOrEqual(end);
    }
    // the second forced GC came ≥ 300 ms after the first
    expect(full.at(-1)!.at - full[0]!.at).toBeGreaterThanOrEqual(290);
    // allocation-driven young-generation collections are read too, with their own kind
    expect(events.some((e) => e.kind === 'Scavenge')).toBe(true);
  });

  it('ignores lines that are not GC events', () => {
    expect(parseGcTrace('listening\n{"msg":"x"}\n[12:0x1] not a gc line\n', 0)).toEqual([]);
  });
});
