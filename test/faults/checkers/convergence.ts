// Checker 4: after healing, every replica of every shard has applied the same log prefix and
// holds the same state: equal applied index and equal state hash.

import type { ReplicaPositions } from "../history.js";
import type { Verdict } from "./verdict.js";

export interface Divergence {
  readonly shardId: string;
  readonly message: string;
}

export interface ConvergenceResult {
  readonly verdict: Verdict;
  readonly divergent: readonly Divergence[];
  readonly shardsChecked: number;
}

export interface ConvergenceOptions {
  /** Replicas every shard must report (a shard with fewer is reported too). */
  readonly replicasPerShard?: number;
}

export function checkConvergence(replicas: ReplicaPositions, options: ConvergenceOptions = {}): ConvergenceResult {
  const divergent: Divergence[] = [];
  for (const [shardId, positions] of replicas) {
    const describe = positions.map((p) => `${p.node}@${p.appliedIndex}:${p.stateHash.slice(0, 12)}`).join(", ");
    if (options.replicasPerShard !== undefined && positions.length < options.replicasPerShard) {
      divergent.push({
        shardId,
        message: `only ${positions.length} of ${options.replicasPerShard} replicas reported (${describe})`,
      });
      continue;
    }
    const first = positions[0];
    if (first === undefined) continue;
    if (positions.some((p) => p.appliedIndex !== first.appliedIndex || p.stateHash !== first.stateHash)) {
      divergent.push({ shardId, message: `replicas differ: ${describe}` });
    }
  }
  return { verdict: divergent.length === 0 ? "ok" : "illegal", divergent, shardsChecked: replicas.size };
}
