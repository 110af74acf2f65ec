// Election safety (Raft paper §5.2): at most one leader per term, across the whole run. Seen
// from two sides: a replica reporting the leader role, and the messages only a leader sends.

import type { ReplicaId } from "../../../src/raft/types.js";
import { SafetyViolation } from "../violation.js";

export class ElectionSafety {
  private readonly leaderOfTerm = new Map<number, ReplicaId>();

  /** Records that `replica` acts as leader in `term`; true when this pair is new. */
  leader(term: number, replica: ReplicaId): boolean {
    const known = this.leaderOfTerm.get(term);
    if (known === replica) return false;
    if (known !== undefined) {
      throw new SafetyViolation("election-safety", `replicas ${known} and ${replica} are both leader in term ${term}`);
    }
    this.leaderOfTerm.set(term, replica);
    return true;
  }
}
