// Quorum overlap: a leader is elected by a majority of the voters it counts in, and no two
// quorums that elected leaders in one term are disjoint. With membership changes a candidate
// counts votes in its own configuration; if two replicas' configurations were two changes apart,
// each could gather a majority of its own without sharing a voter. Election safety would catch
// the second leader afterwards; this names the quorums that made it possible.

import type { ReplicaId } from "../../../src/raft/types.js";
import { SafetyViolation } from "../violation.js";

export interface ElectionQuorum {
  readonly leader: ReplicaId;
  /** The voters the leader counted votes in. */
  readonly voters: readonly ReplicaId[];
  /** The replicas whose vote it had (itself included). */
  readonly granted: ReadonlySet<ReplicaId>;
}

export class QuorumOverlap {
  private readonly quorumsOfTerm = new Map<number, ElectionQuorum[]>();

  elected(term: number, q: ElectionQuorum): void {
    const counted = q.voters.filter((id) => q.granted.has(id));
    if (counted.length <= q.voters.length / 2) {
      throw new SafetyViolation(
        "quorum-overlap",
        `replica ${q.leader} leads term ${term} with votes of ${counted.join(",") || "none"} of its voters ${q.voters.join(",")}: not a majority`,
      );
    }
    const known = this.quorumsOfTerm.get(term) ?? [];
    for (const other of known) {
      if (other.leader === q.leader) continue;
      if (!counted.some((id) => other.granted.has(id))) {
        throw new SafetyViolation(
          "quorum-overlap",
          `term ${term} has disjoint quorums: ${other.leader} elected by ${[...other.granted].join(",")}, ${q.leader} by ${counted.join(",")}`,
        );
      }
    }
    known.push({ leader: q.leader, voters: q.voters.slice(), granted: new Set(counted) });
    this.quorumsOfTerm.set(term, known);
  }
}
