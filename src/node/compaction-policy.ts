// When a replica's log is compacted: on an operator's request (TriggerSnapshot), and on its own
// once the log holds more than compactAfterEntries entries or raftLogBytesBeforeCompaction bytes,
// keeping the newest catchUpEntries so a follower slightly behind catches up from the log rather
// than by snapshot. Runs inside the loop turn, adding the compaction to the turn's batch.

import type { LedgerError } from "../base/errors.js";
import type { Logger } from "../base/logger.js";
import {
  raftLogBytesBeforeCompaction,
  raftLogCatchUpEntries,
  raftLogCatchUpFraction,
  raftLogEntriesBeforeCompaction,
} from "./limits.js";
import type { NodeBatch, Replica } from "./replica.js";

interface Requester {
  resolve(index: number): void;
  reject(e: LedgerError): void;
}

export class CompactionPolicy {
  readonly compactAfterEntries: number;
  private readonly catchUpEntries: number;
  private readonly requested = new Map<Replica, Requester[]>();

  constructor(
    private readonly logger: Logger,
    /** raftLogEntriesBeforeCompaction by default; then a quarter of it is kept for catching up. */
    compactAfterEntries?: number,
  ) {
    this.compactAfterEntries = compactAfterEntries ?? raftLogEntriesBeforeCompaction;
    this.catchUpEntries =
      compactAfterEntries === undefined
        ? raftLogCatchUpEntries
        : Math.floor(compactAfterEntries * raftLogCatchUpFraction);
  }

  /** An operator's snapshot of `replica`: resolves with its index once the turn that took it wrote. */
  request(replica: Replica): Promise<number> {
    return new Promise((resolve, reject) => {
      const list = this.requested.get(replica) ?? [];
      list.push({ resolve, reject });
      this.requested.set(replica, list);
    });
  }

  get hasRequests(): boolean {
    return this.requested.size > 0;
  }

  /**
   * In the loop turn: compacts what is due into `batch`. Returns the requesters to answer once
   * the batch is written, each with its replica.
   */
  run(replicas: Iterable<Replica>, batch: NodeBatch): [Replica, (index: number) => void][] {
    const fired: [Replica, (index: number) => void][] = [];
    for (const r of replicas) {
      const waiting = this.requested.get(r);
      const snapIndex = r.log.snapshotMetadata().index;
      if (waiting !== undefined) {
        this.requested.delete(r);
        if (r.applied > snapIndex) r.log.compact(r.applied, batch);
        for (const w of waiting) fired.push([r, w.resolve]);
        this.logger.info({ shard: r.shard.id, index: r.applied }, "snapshot taken on request; log compacted");
        continue;
      }
      if (r.log.entryCount() > this.compactAfterEntries || r.log.memoryBytes() > raftLogBytesBeforeCompaction) {
        const to = r.applied - this.catchUpEntries;
        if (to > snapIndex) {
          r.log.compact(to, batch);
          this.logger.info({ shard: r.shard.id, index: to }, "log compacted");
        }
      }
    }
    return fired;
  }

  /** The node closes: every requester hears `error`. */
  failAll(error: LedgerError): void {
    for (const waiting of this.requested.values()) for (const w of waiting) w.reject(error);
    this.requested.clear();
  }
}
