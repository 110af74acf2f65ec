// The promises behind election safety: a replica's term never goes back, and it never votes for
// two candidates in one term, across crashes and restarts too (term and vote are synced before
// any message that depends on them leaves). Breaking either can elect two leaders later.

import type { ReplicaId } from "../../../src/raft/types.js";
import { SafetyViolation } from "../violation.js";

interface Promises {
  term: number;
  /** Vote cast in `term`, 0 if none yet. */
  vote: ReplicaId;
}

export class VoteSafety {
  private readonly byReplica = new Map<ReplicaId, Promises>();

  hardState(replica: ReplicaId, term: number, vote: ReplicaId): void {
    const p = this.byReplica.get(replica);
    if (p === undefined) {
      this.byReplica.set(replica, { term, vote });
      return;
    }
    if (term < p.term)
      throw new SafetyViolation("vote-safety", `replica ${replica} went back from term ${p.term} to ${term}`);
    if (term > p.term) {
      p.term = term;
      p.vote = vote;
      return;
    }
    if (vote === p.vote) return;
    if (p.vote !== 0)
      throw new SafetyViolation(
        "vote-safety",
        `replica ${replica} voted for ${p.vote} and then ${vote === 0 ? "nobody" : vote} in term ${term}`,
      );
    p.vote = vote;
  }
}
