import type { Logger } from '../log.ts';
import type { TickLoop } from '../worker/tick-loop.ts';
import type { PresenceStore, WorkerReport } from './store.ts';

// The worker's health for the status page: its tick counters written to the presence store every interval (not per
// tick). Used by workers/ephemeris-worker.ts (Redis) and by the embedded tick loop of src/server.ts (memory).

export interface WorkerReporterOptions {
  store: PresenceStore;
  id: string;
  tickMs: number;
  intervalMs: number;
  brokerReady: () => boolean;
  log: Logger;
}

export interface WorkerReporter {
  /** to be called after each tick (TickLoop onTick) */
  ticked(ms: number): void;
  attach(loop: TickLoop): void;
  stop(): Promise<void>;
}

export function startWorkerReporter(options: WorkerReporterOptions): WorkerReporter {
  const startedAt = Date.now();
  let loop: TickLoop | undefined;
  let lastTickAt: number | null = null;
  let failing = false;
  const report = (): WorkerReport => {
    const s = loop?.stats();
    return {
      kind: 'worker',
      id: options.id,
      startedAt,
      updatedAt: Date.now(),
      tickMs: options.tickMs,
      ticks: s?.ticks ?? 0,
      skipped: s?.skipped ?? 0,
      failed: s?.failed ?? 0,
      lastTickAt,
      lastDurationMs: s?.lastDurationMs ?? 0,
      maxDurationMs: s?.maxDurationMs ?? 0,
      brokerReady: options.brokerReady(),
    };
  };
  const write = (): void => {
    options.store.put(report(), options.intervalMs * 3).then(
      () => {
        failing = false;
      },
      (err: Error) => {
        if (!failing) options.log.debug({ err: err.message }, 'worker presence not written');
        failing = true;
      },
    );
  };
  const timer = setInterval(write, options.intervalMs);
  timer.unref();
  return {
    ticked() {
      lastTickAt = Date.now();
    },
    attach(l) {
      loop = l;
      write();
    },
    async stop() {
      clearInterval(timer);
      await options.store.remove('worker', options.id).catch(() => {});
    },
  };
}
