import { Counter, Gauge, type Registry } from 'prom-client';
import type { SpotStats } from './spot-broker.ts';

// Exact-spot metrics of one API node, read from the spot broker at scrape time (nothing on the per-tick path).

export function registerSpotMetrics(registry: Registry, stats: () => SpotStats): void {
  const registers = [registry];
  new Gauge({
    name: 'orrery_spot_cells_active',
    help: 'Exact-spot cells watched on this node (each computed once per tick)',
    registers,
    collect() {
      this.set(stats().cells);
    },
  });
  new Gauge({
    name: 'orrery_spot_observers_active',
    help: 'Distinct requested spot observers (spot channels) watched on this node',
    registers,
    collect() {
      this.set(stats().observers);
    },
  });
  // Counters that follow the broker's own running totals.
  const follow = (name: string, help: string, read: (s: SpotStats) => number): void => {
    let seen = 0;
    new Counter({
      name,
      help,
      registers,
      collect() {
        const now = read(stats());
        if (now > seen) this.inc(now - seen);
        seen = now;
      },
    });
  };
  follow('orrery_spot_cell_computations_total', 'Cell computations for live ticks on this node (at most one per cell per tick)', (s) => s.computations);
  follow('orrery_spot_replays_total', 'Spot snapshots computed from past frames (resume, first message)', (s) => s.replays);
}
