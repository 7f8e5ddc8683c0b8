// Per-location join and leave counters of one node, bumped by the stream routes on open and close (never per message).
// The presence reporter ships the cumulative counts; the status channel turns differences into the activity feed.

export class PresenceTracker {
  readonly joins = new Map<string, number>();
  readonly leaves = new Map<string, number>();
  statusClients = 0;

  joined(channel: string): void {
    this.joins.set(channel, (this.joins.get(channel) ?? 0) + 1);
  }

  left(channel: string): void {
    this.leaves.set(channel, (this.leaves.get(channel) ?? 0) + 1);
  }
}
