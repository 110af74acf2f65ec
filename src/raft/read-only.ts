// ReadIndex bookkeeping on the leader (§6.4 of the Raft thesis). A read request records the
// commit index at arrival; it is released only once a quorum has acknowledged a heartbeat that
// carries its context (sent after the request arrived), which proves that no newer leader had
// been elected at that moment. Requests are released in arrival order: an ack for a later
// request also proves leadership for every earlier one.

import type { ReplicaId } from "./types.js";

export interface PendingRead {
  index: number;
  from: ReplicaId;
  context: Uint8Array;
  acks: Map<ReplicaId, boolean>;
}

/** A string key for a context (bytes as char codes), so contexts can key a Map. */
export function contextKey(context: Uint8Array): string {
  let s = "";
  for (let i = 0; i < context.length; i++) s += String.fromCharCode(context[i] ?? 0);
  return s;
}

export class ReadOnly {
  private readonly pending = new Map<string, PendingRead>();
  private queue: string[] = [];

  has(context: Uint8Array): boolean {
    return this.pending.has(contextKey(context));
  }

  /** Adds a request; returns false (and changes nothing) when the context is already pending. */
  addRequest(index: number, from: ReplicaId, context: Uint8Array): boolean {
    const key = contextKey(context);
    if (this.pending.has(key)) return false;
    this.pending.set(key, { index, from, context, acks: new Map() });
    this.queue.push(key);
    return true;
  }

  /** Records that `id` acknowledged the heartbeat carrying `context`; returns the acks so far. */
  recvAck(id: ReplicaId, context: Uint8Array): ReadonlyMap<ReplicaId, boolean> | undefined {
    const p = this.pending.get(contextKey(context));
    if (p === undefined) return undefined;
    p.acks.set(id, true);
    return p.acks;
  }

  /** Removes and returns every request up to and including the one for `context`. */
  advance(context: Uint8Array): PendingRead[] {
    const key = contextKey(context);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const released: PendingRead[] = [];
    for (let i = 0; i <= at; i++) {
      const k = this.queue[i] ?? "";
      const p = this.pending.get(k);
      if (p !== undefined) released.push(p);
      this.pending.delete(k);
    }
    this.queue = this.queue.slice(at + 1);
    return released;
  }

  /** Context of the newest pending request: heartbeats carry it so their acks prove leadership. */
  lastPendingContext(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? undefined : this.pending.get(key)?.context;
  }

  pendingCount(): number {
    return this.queue.length;
  }

  reset(): void {
    this.pending.clear();
    this.queue = [];
  }
}
