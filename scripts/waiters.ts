// Promises over state that grows as data arrives (log lines, stream events): each change calls notify(), which
// re-checks every pending condition; a condition settles once, and a timeout rejects it with the caller's message.

/** What a check says: `{ value }` to resolve, an Error to reject, undefined to keep waiting. */
export type Check<T> = () => { value: T } | Error | undefined;

export class Waiters {
  private readonly pending = new Set<() => void>();

  notify(): void {
    for (const w of [...this.pending]) w();
  }

  wait<T>(check: Check<T>, timeoutMs: number, timeoutError: () => Error): Promise<T> {
    return new Promise((resolve, reject) => {
      const run = (): void => {
        const outcome = check();
        if (outcome === undefined) return;
        done();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome.value);
      };
      const timer = setTimeout(() => {
        done();
        reject(timeoutError());
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.pending.delete(run);
      };
      this.pending.add(run);
      run();
    });
  }
}
