// Presence shared between the processes of one deployment: each API node and the worker write a small report of their
// own every STATUS_INTERVAL_MS; any node reads them all to show the whole cluster. Reports expire on their own, so a
// node that died without a word drops out after a few intervals. Memory: one process; Redis: redis-store.ts.

/** What one API node says about itself. Counts are per grid location id; joins/leaves are cumulative since start. */
export interface NodeReport {
  kind: 'node';
  id: string;
  startedAt: number;
  updatedAt: number;
  ready: boolean;
  clients: number;
  statusClients: number;
  counts: Record<string, number>;
  joins: Record<string, number>;
  leaves: Record<string, number>;
  /** messages received from the broker and fanned out (cumulative) */
  dispatched: number;
  /** frames handed to connections (cumulative) */
  fannedOut: number;
  slowCloses: number;
}

/** What the worker (or the embedded tick loop) says about its ticks. */
export interface WorkerReport {
  kind: 'worker';
  id: string;
  startedAt: number;
  updatedAt: number;
  tickMs: number;
  ticks: number;
  skipped: number;
  failed: number;
  lastTickAt: number | null;
  lastDurationMs: number;
  maxDurationMs: number;
  brokerReady: boolean;
}

export type Report = NodeReport | WorkerReport;

export interface PresenceStore {
  /** Writes this process's report; it expires `ttlMs` after `updatedAt` unless written again. */
  put(report: Report, ttlMs: number): Promise<void>;
  /** Removes a report (clean shutdown). */
  remove(kind: Report['kind'], id: string): Promise<void>;
  /** Every report that has not expired. */
  readAll(): Promise<Report[]>;
  close(): Promise<void>;
}

export const reportKey = (kind: Report['kind'], id: string): string => `${kind}:${id}`;

/** Parses a stored report; undefined when it is not one of ours or has expired. */
export function decodeReport(json: string, now: number): Report | undefined {
  try {
    const r = JSON.parse(json) as (Report & { expiresAt?: number }) | null;
    if (!r || (r.kind !== 'node' && r.kind !== 'worker') || typeof r.id !== 'string') return undefined;
    if (typeof r.expiresAt === 'number' && r.expiresAt < now) return undefined;
    return r;
  } catch {
    return undefined;
  }
}

export const encodeReport = (report: Report, ttlMs: number): string =>
  JSON.stringify({ ...report, expiresAt: report.updatedAt + ttlMs });

/** The embedded mode's store: one process, the same expiry rules. */
export function createMemoryPresence(): PresenceStore {
  const entries = new Map<string, string>();
  return {
    async put(report, ttlMs) {
      entries.set(reportKey(report.kind, report.id), encodeReport(report, ttlMs));
    },
    async remove(kind, id) {
      entries.delete(reportKey(kind, id));
    },
    async readAll() {
      const now = Date.now();
      const out: Report[] = [];
      for (const [key, json] of entries) {
        const r = decodeReport(json, now);
        if (r) out.push(r);
        else entries.delete(key);
      }
      return out;
    },
    async close() {
      entries.clear();
    },
  };
}
