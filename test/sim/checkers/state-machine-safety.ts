// State machine safety (Raft paper §5.4.3): every replica applies the same entries in the same
// order. Kept as one global committed sequence, built from the first application of each index:
// each replica's applied sequence must be a prefix of it, applied one index at a time; a restart
// may move a replica to any index whose state hash matches the sequence, a snapshot install only
// forward.
// Also no client payload is applied at two indexes (a proposal commits at most once).

import type { ReplicaId } from "../../../src/raft/types.js";
import { hashSeed } from "../hash.js";
import { nextAppHash, noopPayload } from "../payload.js";
import { SafetyViolation } from "../violation.js";

export class StateMachineSafety {
  // Index 0 is the empty state every replica starts from.
  private readonly terms: number[] = [0];
  private readonly payloads: number[] = [noopPayload];
  private readonly hashes: number[] = [hashSeed];
  private readonly appliedBy = new Map<ReplicaId, number>();
  private readonly indexOfPayload = new Map<number, number>();

  /**
   * The replica's application state is now the state after `index`, with hash `hash`: loaded
   * from disk by a restart (any index), or installed from a snapshot, which must move it forward
   * (a running replica whose state went back could serve reads older than it served before).
   */
  restore(replica: ReplicaId, index: number, hash: number, from: "restart" | "snapshot"): void {
    const at = this.appliedBy.get(replica) ?? 0;
    if (from === "snapshot" && index <= at) {
      throw new SafetyViolation(
        "state-machine-safety",
        `replica ${replica} installed a snapshot at ${index} over its state applied to ${at}`,
      );
    }
    const h = this.hashes[index];
    if (h === undefined) {
      throw new SafetyViolation(
        "state-machine-safety",
        `replica ${replica} restored to index ${index}, beyond anything applied anywhere`,
      );
    }
    if (h !== hash) {
      throw new SafetyViolation(
        "state-machine-safety",
        `replica ${replica} restored a state at index ${index} that differs from the committed sequence`,
      );
    }
    this.appliedBy.set(replica, index);
  }

  apply(replica: ReplicaId, index: number, term: number, payload: number): void {
    const last = this.appliedBy.get(replica) ?? 0;
    if (index !== last + 1) {
      throw new SafetyViolation(
        "state-machine-safety",
        `replica ${replica} applied index ${index} right after ${last}`,
      );
    }
    this.appliedBy.set(replica, index);
    if (index < this.terms.length) {
      if (this.terms[index] !== term || this.payloads[index] !== payload) {
        throw new SafetyViolation(
          "state-machine-safety",
          `replica ${replica} applied payload ${payload}@${term} at ${index}, others applied ${this.payloads[index]}@${this.terms[index]}`,
        );
      }
      return;
    }
    if (payload !== noopPayload) {
      const at = this.indexOfPayload.get(payload);
      if (at !== undefined)
        throw new SafetyViolation("state-machine-safety", `payload ${payload} applied at ${at} and again at ${index}`);
      this.indexOfPayload.set(payload, index);
    }
    this.terms.push(term);
    this.payloads.push(payload);
    this.hashes.push(nextAppHash(this.hashes[index - 1]!, term, payload));
  }

  appliedIndex(replica: ReplicaId): number {
    return this.appliedBy.get(replica) ?? 0;
  }

  /** The payload at `index` of the committed sequence, if anyone applied that far. */
  payloadAt(index: number): number | undefined {
    return this.payloads[index];
  }

  /** Highest index applied by any replica. */
  get length(): number {
    return this.terms.length - 1;
  }
}
