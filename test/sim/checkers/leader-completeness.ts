// Leader completeness (Raft paper §5.4): an entry committed in a term is in the log of every
// leader of a later term. A replica that reports commit index c while at term t proves that the
// entry at c was committed in some term <= t, so every leader of a term > t must hold that entry
// (same index, same term); log matching then covers everything before it. Also: two replicas
// never report different entries committed at one index.

import type { ReplicaId } from "../../../src/raft/types.js";
import { SafetyViolation } from "../violation.js";

/** A read-only look at a leader's log when it takes office. */
export interface LogView {
  readonly lastIndex: number;
  /** Term of the entry at `index`; undefined when compacted into a snapshot. */
  termAt(index: number): number | undefined;
}

interface CommitPoint {
  index: number;
  entryTerm: number;
}

export class LeaderCompleteness {
  /** Per observer term: the highest commit index reported at that term. */
  private readonly highestCommitAtTerm = new Map<number, CommitPoint>();
  private readonly committedTermAt = new Map<number, number>();

  commit(replica: ReplicaId, replicaTerm: number, index: number, entryTerm: number): void {
    const known = this.committedTermAt.get(index);
    if (known === undefined) this.committedTermAt.set(index, entryTerm);
    else if (known !== entryTerm) {
      throw new SafetyViolation(
        "leader-completeness",
        `replica ${replica} reports index ${index} committed with term ${entryTerm}, another replica with term ${known}`,
      );
    }
    const p = this.highestCommitAtTerm.get(replicaTerm);
    if (p === undefined) this.highestCommitAtTerm.set(replicaTerm, { index, entryTerm });
    else if (index > p.index) {
      p.index = index;
      p.entryTerm = entryTerm;
    }
  }

  /** Called when `replica` is first seen leading `term`, with its log at that moment. */
  leader(replica: ReplicaId, term: number, log: LogView): void {
    let need: CommitPoint | undefined;
    for (const [t, p] of this.highestCommitAtTerm) {
      if (t < term && (need === undefined || p.index > need.index)) need = p;
    }
    if (need === undefined) return;
    if (log.lastIndex < need.index) {
      throw new SafetyViolation(
        "leader-completeness",
        `leader ${replica} of term ${term} has log up to ${log.lastIndex} but ${need.index} was committed earlier`,
      );
    }
    const t = log.termAt(need.index);
    if (t !== undefined && t !== need.entryTerm) {
      throw new SafetyViolation(
        "leader-completeness",
        `leader ${replica} of term ${term} holds term ${t} at ${need.index}, committed earlier with term ${need.entryTerm}`,
      );
    }
  }
}
