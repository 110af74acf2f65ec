// Log matching (Raft paper §5.3): two logs holding an entry with the same index and term hold the
// same entries up to it. Checked inductively and cheaply: every (index, term) pair ever persisted
// by any replica must always carry the same payload and follow an entry of the same term. If that
// holds for every pair, equal pairs have equal predecessors, and so on down the log.

import type { ReplicaId } from "../../../src/raft/types.js";
import { SafetyViolation } from "../violation.js";

/** Terms stay far below this in a simulation; the bound lets (index, term) pack into one number. */
const termsMax = 2 ** 20;
/** Marks a predecessor term the persisting replica could not tell (its log was compacted there). */
export const unknownTerm = -1;

interface Seen {
  payload: number;
  prevTerm: number;
  replica: ReplicaId;
}

export class LogMatching {
  private readonly seen = new Map<number, Seen>();

  persisted(replica: ReplicaId, index: number, term: number, prevTerm: number, payload: number): void {
    if (term >= termsMax || index >= 2 ** 32)
      throw new RangeError(`log-matching: term ${term} or index ${index} out of range`);
    const key = index * termsMax + term;
    const s = this.seen.get(key);
    if (s === undefined) {
      this.seen.set(key, { payload, prevTerm, replica });
      return;
    }
    if (s.payload !== payload) {
      throw new SafetyViolation(
        "log-matching",
        `entry ${index}@${term} holds payload ${s.payload} on replica ${s.replica} but ${payload} on replica ${replica}`,
      );
    }
    if (prevTerm === unknownTerm) return;
    if (s.prevTerm === unknownTerm) {
      s.prevTerm = prevTerm;
    } else if (s.prevTerm !== prevTerm) {
      throw new SafetyViolation(
        "log-matching",
        `entry ${index}@${term} follows term ${s.prevTerm} on replica ${s.replica} but term ${prevTerm} on replica ${replica}`,
      );
    }
  }
}
