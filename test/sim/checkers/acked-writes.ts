// No acknowledged write is lost: once the cluster has healed and settled, every replica has
// applied every acknowledged payload, at the index where it was acknowledged.

import type { ReplicaId } from "../../../src/raft/types.js";
import { SafetyViolation } from "../violation.js";

export interface Ack {
  readonly payload: number;
  readonly index: number;
}

export interface FinalReplica {
  readonly replica: ReplicaId;
  readonly applied: number;
}

/** `payloadAt` reads the committed sequence (each replica's applied sequence is a prefix of it). */
export function checkAckedWritesKept(
  acks: readonly Ack[],
  payloadAt: (index: number) => number | undefined,
  replicas: readonly FinalReplica[],
): void {
  for (const a of acks) {
    const p = payloadAt(a.index);
    if (p !== a.payload) {
      throw new SafetyViolation(
        "acked-write-lost",
        `payload ${a.payload} was acknowledged at index ${a.index}, which now holds ${p ?? "nothing"}`,
      );
    }
    for (const r of replicas) {
      if (r.applied < a.index) {
        throw new SafetyViolation(
          "acked-write-lost",
          `replica ${r.replica} settled at applied index ${r.applied} without acknowledged payload ${a.payload} (index ${a.index})`,
        );
      }
    }
  }
}
