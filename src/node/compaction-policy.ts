// When a replica's log is compacted: on an operator's request (TriggerSnapshot); on its own
// once the log holds more than compactAfterEntries entries or raftLogBytesBeforeCompaction bytes,
// keeping a catch-up tail (catchUpEntries, at most raftLogCatchUpBytes) so a follower slightly
// behind catches up from the log rather than by snapshot; and when all the node's logs together
// pass nodeRaftLogBytesMax, largest first, so a node's log memory is bounded whatever its
// replica count. Runs inside the loop turn, adding the compaction to the turn's batch.

import type { LedgerError } from "../base/errors.js";
import type { Logger } from "../base/logger.js";
import {
  nodeRaftLogBytesMax,
  raftLogBytesBeforeCompaction,
  raftLogCatchUpBytes,
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
    /** What all the node's in-memory logs may hold together (tests make it small). */
    private readonly nodeLogBytesMax = nodeRaftLogBytesMax,
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
    const all = [...replicas]; // walked twice when over the node budget
    let heldBytes = 0;
    for (const r of all) {
      const waiting = this.requested.get(r);
      const snapIndex = r.log.snapshotMetadata().index;
      if (waiting !== undefined) {
        this.requested.delete(r);
        if (r.applied > snapIndex) r.log.compact(r.applied, batch);
        for (const w of waiting) fired.push([r, w.resolve]);
        this.logger.info({ shard: r.shard.id, index: r.applied }, "snapshot taken on request; log compacted");
        continue;
      }
      if (r.log.entryCount() > this.compactAfterEntries || r.log.heldBytes() > raftLogBytesBeforeCompaction) {
        const to = r.log.keepTail(r.applied, this.catchUpEntries, raftLogCatchUpBytes);
        if (to > snapIndex) {
          r.log.compact(to, batch);
          this.logger.info({ shard: r.shard.id, index: to }, "log compacted");
        }
      }
      heldBytes += r.log.heldBytes();
    }
    if (heldBytes > this.nodeLogBytesMax) this.shrinkNodeLogs(all, heldBytes, batch);
    return fired;
  }

  /**
   * The node's logs hold `heldBytes`, over its budget: compacts the largest first until they
   * hold at most half of it (so the next turns do not compact again at once), each keeping a
   * tail of at most its share of that half. Entries not yet applied cannot go; if they alone
   * pass the budget, this frees what it can and the leaders' uncommitted bounds do the rest.
   */
  private shrinkNodeLogs(replicas: readonly Replica[], heldBytes: number, batch: NodeBatch): void {
    const all = [...replicas].sort((a, b) => b.log.heldBytes() - a.log.heldBytes());
    const goal = Math.floor(this.nodeLogBytesMax / 2);
    const tailBytes = Math.min(raftLogCatchUpBytes, Math.floor(goal / all.length));
    const before = heldBytes;
    let held = heldBytes;
    let compacted = 0;
    for (const r of all) {
      if (held <= goal) break;
      const to = r.log.keepTail(r.applied, this.catchUpEntries, tailBytes);
      if (to <= r.log.snapshotMetadata().index) continue;
      const was = r.log.heldBytes();
      r.log.compact(to, batch);
      held -= was - r.log.heldBytes();
      compacted++;
    }
    if (compacted > 0)
      this.logger.info(
        { replicas: compacted, heldBytesBefore: before, heldBytesAfter: held, budgetBytes: this.nodeLogBytesMax },
        "logs compacted: the node's in-memory logs passed their budget",
      );
  }

  /** The node closes: every requester hears `error`. */
  failAll(error: LedgerError): void {
    for (const waiting of this.requested.values()) for (const w of waiting) w.reject(error);
    this.requested.clear();
  }
}
