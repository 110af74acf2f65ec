// Membership changes asked of this node's replicas (an operation moving a replica): proposed in
// the loop, answered once the change is applied here and the turn that applied it is written,
// so the membership it returns survives a restart (the log rebuilds it from the entry). A
// refusal carries the Raft core's reason; an entry lost to a new leader is "not applied", so the
// caller may retry; a deadline that passes leaves the outcome unknown.

import { LedgerError } from "../base/errors.js";
import type { ConfChange, ConfState } from "../raft/index.js";
import type { Replica } from "./replica.js";
import { notApplied } from "./waiters.js";

interface Waiting {
  replica: Replica;
  /** Where the change went in the log, and in which term: the entry found there later must match. */
  index: number;
  term: number;
  deadlineMs: number;
  resolve(cs: ConfState): void;
  reject(e: LedgerError): void;
}

export class MembershipChanges {
  private waiting: Waiting[] = [];

  /** In the loop: proposes `cc` on `replica`; `refuse` maps a Raft refusal to the caller's error. */
  propose(
    replica: Replica,
    cc: ConfChange,
    deadlineMs: number,
    answer: { resolve(cs: ConfState): void; reject(e: LedgerError): void },
    refuse: (e: unknown) => LedgerError,
  ): void {
    try {
      replica.raw.proposeConfChange(cc);
    } catch (e) {
      answer.reject(refuse(e));
      return;
    }
    const st = replica.raw.status();
    this.waiting.push({ replica, index: st.lastIndex, term: st.hardState.term, deadlineMs, ...answer });
  }

  get count(): number {
    return this.waiting.length;
  }

  /** After a turn's write: answers the changes whose entry is applied (or was replaced), and the late. */
  settle(nowMs: number): void {
    if (this.waiting.length === 0) return;
    const still: Waiting[] = [];
    for (const w of this.waiting) {
      const log = w.replica.log;
      const shard = w.replica.shard.id;
      if (log.applied() >= w.index) {
        // Compaction runs before a turn's apply and stops at the applied index it finds, so the
        // entry just applied is still in the log to compare.
        let term = -1;
        if (w.index > log.snapshotMetadata().index) term = log.term(w.index);
        if (term === w.term) w.resolve(log.initialState().confState);
        else if (term === -1)
          w.reject(
            new LedgerError(
              "DEADLINE_EXCEEDED",
              `${shard}: the membership change's entry was compacted before it was checked; outcome unknown, read the membership`,
            ),
          );
        else
          w.reject(
            notApplied(
              "UNAVAILABLE",
              `${shard}: the membership change was replaced by a new leader's log; not applied, retry`,
            ),
          );
      } else if (nowMs >= w.deadlineMs) {
        w.reject(
          new LedgerError(
            "DEADLINE_EXCEEDED",
            `${shard}: the membership change at index ${w.index} is not applied yet; outcome unknown, read the membership`,
          ),
        );
      } else still.push(w);
    }
    this.waiting = still;
  }

  failAll(error: LedgerError): void {
    for (const w of this.waiting) w.reject(error);
    this.waiting = [];
  }
}
