// Majority decisions over one voter set. Written against a voter set (not a count) so that
// joint consensus (two sets, both must agree) can wrap two of these when membership changes
// arrive.

import type { ReplicaId } from "./types.js";

export type VoteResult = "pending" | "lost" | "won";

export class MajorityConfig {
  readonly voters: readonly ReplicaId[];
  private readonly scratch: number[];

  constructor(voters: Iterable<ReplicaId>) {
    // Sorted so that every iteration (and so every message order) is deterministic.
    this.voters = [...new Set(voters)].sort((a, b) => a - b);
    this.scratch = new Array<number>(this.voters.length).fill(0);
  }

  has(id: ReplicaId): boolean {
    return this.voters.includes(id);
  }

  quorum(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  /**
   * The highest index acknowledged by a majority, given each voter's acknowledged index. An
   * empty config commits everything (it never blocks a joint config's other half).
   */
  committedIndex(acked: (id: ReplicaId) => number): number {
    const n = this.voters.length;
    if (n === 0) return Number.MAX_SAFE_INTEGER;
    const s = this.scratch;
    for (let i = 0; i < n; i++) s[i] = acked(this.voters[i] ?? 0);
    // Insertion sort, descending: n is tiny and this runs on every append response.
    for (let i = 1; i < n; i++) {
      const v = s[i] ?? 0;
      let j = i - 1;
      while (j >= 0 && (s[j] ?? 0) < v) {
        s[j + 1] = s[j] ?? 0;
        j--;
      }
      s[j + 1] = v;
    }
    return s[this.quorum() - 1] ?? 0;
  }

  /** Tally of votes (true = granted); voters that have not answered are pending. */
  voteResult(votes: ReadonlyMap<ReplicaId, boolean>): VoteResult {
    if (this.voters.length === 0) return "won";
    let granted = 0;
    let missing = 0;
    for (const id of this.voters) {
      const v = votes.get(id);
      if (v === undefined) missing++;
      else if (v) granted++;
    }
    const q = this.quorum();
    if (granted >= q) return "won";
    if (granted + missing >= q) return "pending";
    return "lost";
  }
}
