import type { SseSink } from '../../../src/hub/sink.ts';

/** A sink whose buffer the test controls: writes are recorded, `full` makes write() report backpressure. */
export class FakeSink implements SseSink {
  chunks: string[] = [];
  full = false;
  ended = false;
  destroyed = false;
  buffered = 0;
  private drain: (() => void)[] = [];
  private close: (() => void)[] = [];

  write(chunk: Buffer): boolean {
    this.chunks.push(chunk.toString());
    if (this.full) this.buffered += chunk.length;
    return !this.full;
  }
  get bufferedBytes(): number {
    return this.buffered;
  }
  end(): void {
    this.ended = true;
    this.fireClose();
  }
  destroy(): void {
    this.destroyed = true;
    this.fireClose();
  }
  onDrain(l: () => void): void {
    this.drain.push(l);
  }
  onClose(l: () => void): void {
    this.close.push(l);
  }
  /** The peer read everything. */
  drainNow(): void {
    this.full = false;
    this.buffered = 0;
    for (const l of this.drain) l();
  }
  /** The peer went away. */
  fireClose(): void {
    for (const l of this.close.splice(0)) l();
  }
  /** ids of the update events written so far */
  ids(): number[] {
    return this.chunks.flatMap((c) => [...c.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1])));
  }
}
