// Latency histogram with 1 ms bins up to a minute: cheap to record 50,000 times a second, exact enough for p50/p99,
// and mergeable across load-client processes (sent as sparse [ms, count] pairs).

const BINS = 60_000;

export class Histogram {
  readonly bins = new Uint32Array(BINS + 1);
  count = 0;
  max = 0;
  sum = 0;

  record(ms: number): void {
    const v = ms < 0 ? 0 : Math.round(ms);
    this.bins[Math.min(v, BINS)]!++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  toSparse(): { pairs: [number, number][]; max: number; sum: number } {
    const pairs: [number, number][] = [];
    for (let i = 0; i <= BINS; i++) if (this.bins[i]) pairs.push([i, this.bins[i]!]);
    return { pairs, max: this.max, sum: this.sum };
  }

  merge(s: { pairs: [number, number][]; max: number; sum: number }): void {
    for (const [i, n] of s.pairs) {
      this.bins[i]! += n;
      this.count += n;
    }
    this.sum += s.sum;
    if (s.max > this.max) this.max = s.max;
  }

  /** The smallest ms with at least p of the recorded values at or below it (p in 0..1). */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (let i = 0; i <= BINS; i++) {
      seen += this.bins[i]!;
      if (seen >= rank) return i === BINS ? this.max : i;
    }
    return this.max;
  }

  mean(): number {
    return this.count ? this.sum / this.count : NaN;
  }
}
