// Reads on this node's replicas.
//
// Linearizable: reads queued since the last loop turn share ONE ReadIndex per replica (one
// heartbeat round for all of them); once Raft confirms the read point, each read waits until the
// replica has applied (and written) up to it. Stale: served at once from the replica's written
// state, but never before it has replayed its log after a restart.
//
// Every query runs on a LevelDB snapshot taken when it starts, against the state the replica
// has published after its last write: the answer is one point in time, even while the loop
// applies more commands or a snapshot install replaces the replica's state.

import type { Clock } from "../base/clock.js";
import { LedgerError } from "../base/errors.js";
import { nodePendingReadsMax, readIndexTimeoutMs } from "./limits.js";
import type { Query, QueryResult } from "../gen/ledger/core/v1/core_pb.js";
import type { ReadState } from "../raft/index.js";
import type { LedgerDb } from "../storage/ledger-store.js";
import type { Replica } from "./replica.js";
import type { ReadWaiter } from "./waiters.js";

export interface ReadAnswer {
  result: QueryResult;
  appliedIndex: number;
}

/** One replica's linearizable reads, owned by the read path. */
class ReplicaReads {
  /** Reads that arrived since the last loop turn; each turn sends one ReadIndex for all. */
  queued: ReadWaiter[] = [];
  /** ReadIndex requests in flight, by context (hex). */
  readonly batches = new Map<string, ReadWaiter[]>();
  /** Reads confirmed at a read point, waiting for applied >= index. */
  confirmed: { index: number; reads: ReadWaiter[] }[] = [];
}

export class ReadPath {
  private readonly byReplica = new Map<Replica, ReplicaReads>();
  private pending = 0;
  private nextContext = 1;

  constructor(
    private readonly db: LedgerDb,
    private readonly nodeId: string,
    /** Random per process start: with the replica id it keeps contexts unique across nodes and restarts. */
    private readonly epoch: number,
    private readonly clock: Clock,
    private readonly schedule: () => void,
  ) {}

  /** Whether reads arrived for `r` since the last loop turn (work for the next turn). */
  hasQueued(r: Replica): boolean {
    return this.of(r).queued.length > 0;
  }

  /** Linearizable reads waiting on `r`: queued, awaiting confirmation, or awaiting apply. */
  waiting(r: Replica): number {
    const reads = this.of(r);
    let n = reads.queued.length;
    for (const batch of reads.batches.values()) n += batch.length;
    for (const c of reads.confirmed) n += c.reads.length;
    return n;
  }

  private of(r: Replica): ReplicaReads {
    let reads = this.byReplica.get(r);
    if (reads === undefined) {
      reads = new ReplicaReads();
      this.byReplica.set(r, reads);
    }
    return reads;
  }

  read(replica: Replica, query: Query, stale: boolean, deadlineMs: number): Promise<ReadAnswer> {
    if (this.pending >= nodePendingReadsMax) {
      return Promise.reject(
        new LedgerError(
          "RESOURCE_EXHAUSTED",
          `node ${this.nodeId} has ${nodePendingReadsMax} reads in flight; retry later`,
        ),
      );
    }
    if (stale && !replica.caughtUp) {
      return Promise.reject(
        new LedgerError(
          "UNAVAILABLE",
          `${replica.shard.id}: replica on ${this.nodeId} is replaying its log; no reads until it has caught up`,
        ),
      );
    }
    this.pending++;
    if (stale) return this.query(replica, query).finally(() => this.pending--);
    return new Promise((resolve, reject) => {
      const w: ReadWaiter = {
        shardId: replica.shard.id,
        query,
        deadlineMs,
        confirmByMs: Math.min(deadlineMs, this.clock.nowMs() + readIndexTimeoutMs),
        settled: false,
        resolve: (v) => {
          if (w.settled) return;
          w.settled = true;
          this.pending--;
          resolve(v);
        },
        reject: (e) => {
          if (w.settled) return;
          w.settled = true;
          this.pending--;
          reject(e);
        },
      };
      this.of(replica).queued.push(w);
      this.schedule();
    });
  }

  /** At the start of a turn: one ReadIndex per replica for every read queued since the last. */
  startReadIndex(r: Replica): void {
    const state = this.of(r);
    if (state.queued.length === 0) return;
    const reads = state.queued;
    state.queued = [];
    if (r.leader === 0) {
      for (const w of reads)
        w.reject(new LedgerError("UNAVAILABLE", `${r.shard.id}: no leader known on node ${this.nodeId}; retry`));
      return;
    }
    const context = new Uint8Array(16);
    const view = new DataView(context.buffer);
    view.setUint32(0, r.replicaId);
    view.setUint32(4, this.epoch);
    view.setBigUint64(8, BigInt(this.nextContext++));
    state.batches.set(contextKey(context), reads);
    r.raw.readIndex(context);
  }

  /** Read points Raft confirmed in this turn's Ready. */
  confirm(r: Replica, readStates: readonly ReadState[]): void {
    const state = this.of(r);
    for (const rs of readStates) {
      const key = contextKey(rs.context);
      const reads = state.batches.get(key);
      if (reads === undefined) continue;
      state.batches.delete(key);
      state.confirmed.push({ index: rs.index, reads });
    }
  }

  /** After the turn's write: serves the confirmed reads whose point the replica has reached. */
  serve(r: Replica): void {
    const state = this.of(r);
    if (state.confirmed.length === 0) return;
    const applied = r.readable.applied;
    const waiting: ReplicaReads["confirmed"] = [];
    for (const c of state.confirmed) {
      if (c.index > applied) {
        waiting.push(c);
        continue;
      }
      for (const w of c.reads) {
        if (w.settled) continue;
        this.query(r, w.query).then(w.resolve, w.reject);
      }
    }
    state.confirmed = waiting;
  }

  /** Once per tick: gives up reads Raft did not confirm in time, and reads past their deadline. */
  expire(r: Replica, now: number): void {
    const state = this.of(r);
    for (const [key, reads] of state.batches) {
      if (reads.every((w) => w.settled || w.confirmByMs > now)) continue;
      state.batches.delete(key);
      for (const w of reads)
        w.reject(
          new LedgerError(
            "UNAVAILABLE",
            `${r.shard.id}: the read could not be confirmed with the leader in time; retry`,
          ),
        );
    }
    for (const c of state.confirmed) {
      for (const w of c.reads)
        if (w.deadlineMs <= now)
          w.reject(
            new LedgerError(
              "DEADLINE_EXCEEDED",
              `${r.shard.id}: replica did not apply up to the read point before the deadline`,
            ),
          );
      c.reads = c.reads.filter((w) => !w.settled);
    }
    state.confirmed = state.confirmed.filter((c) => c.reads.length > 0);
  }

  /** The replica stopped leading, or its leader changed: its unconfirmed read rounds will never
   * be answered. */
  failUnconfirmed(r: Replica, why: string): void {
    const state = this.of(r);
    for (const [key, reads] of state.batches) {
      state.batches.delete(key);
      for (const w of reads)
        w.reject(new LedgerError("UNAVAILABLE", `${r.shard.id}: ${why} before the read was confirmed; retry`));
    }
  }

  failAll(r: Replica, error: LedgerError): void {
    const state = this.of(r);
    for (const w of state.queued) w.reject(error);
    for (const reads of state.batches.values()) for (const w of reads) w.reject(error);
    for (const c of state.confirmed) for (const w of c.reads) w.reject(error);
    state.queued = [];
    state.batches.clear();
    state.confirmed = [];
  }

  private async query(r: Replica, query: Query): Promise<ReadAnswer> {
    const { store, applied } = r.readable;
    const snapshot = this.db.snapshot();
    try {
      return { result: await store.query(query, snapshot), appliedIndex: applied };
    } catch (e) {
      throw e instanceof LedgerError ? e : new LedgerError("INTERNAL", `${r.shard.id}: read failed: ${String(e)}`);
    } finally {
      await snapshot.close();
    }
  }
}

function contextKey(context: Uint8Array): string {
  return Buffer.from(context.buffer, context.byteOffset, context.byteLength).toString("hex");
}
