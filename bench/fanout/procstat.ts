import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

// CPU time and memory of a set of server processes, from /proc (Linux): what the servers themselves spent, whatever
// the load client did on the same cores.

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcSample {
  /** user + system CPU time so far, ms */
  cpuMs: number;
  /** the system (kernel) part of cpuMs */
  sysMs: number;
  rssBytes: number;
}

export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const sysTicks = Number(fields[12]);
    const ticks = Number(fields[11]) + sysTicks;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return { cpuMs: (ticks * 1000) / CLK_TCK, sysMs: (sysTicks * 1000) / CLK_TCK, rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}

/** `pid` and its direct children (nginx: the master and its workers). */
export function withChildren(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return [pid, ...(children ? children.split(/\s+/).map(Number) : [])];
  } catch {
    return [pid];
  }
}

export function sampleAll(pids: readonly number[]): ProcSample {
  const total = { cpuMs: 0, sysMs: 0, rssBytes: 0 };
  for (const pid of pids) {
    const s = sampleProcess(pid);
    if (!s) continue;
    total.cpuMs += s.cpuMs;
    total.sysMs += s.sysMs;
    total.rssBytes += s.rssBytes;
  }
  return total;
}

/**
 * Proportional set size summed over `pids`: shared pages (the node binary, nginx's shared memory) counted once
 * overall instead of once per process as RSS does.
 */
export function pssAll(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      total += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0) * 1024;
    } catch {
      // gone, or no smaps_rollup on this kernel
    }
  }
  return total;
}

/** Open descriptors of each pid (how evenly the connections landed). */
export function fdCounts(pids: readonly number[]): number[] {
  return pids.map((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      return 0;
    }
  });
}

/** CPU time the whole machine spent busy so far (all cores, user+nice+system+irq+softirq+steal), ms. */
export function machineBusyMs(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = cpu[0]! + cpu[1]! + cpu[2]! + cpu[5]! + cpu[6]! + cpu[7]!;
    return (busy * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}
