// What the admin API reports of one replica.

import type { NodeId, ShardId } from "../cluster/config.js";
import type { ReplicaId } from "../raft/index.js";
import type { LedgerDb } from "../storage/ledger-store.js";
import type { Replica } from "./replica.js";
import { hashReplicaState } from "./state-hash.js";

export interface ReplicaSummary {
  shardId: ShardId;
  replicaId: ReplicaId;
  role: string;
  term: number;
  leaderReplicaId: ReplicaId;
  leaderNodeId: NodeId | "";
  commitIndex: number;
  appliedIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  caughtUp: boolean;
  stateHash?: Uint8Array;
}

/**
 * Call when no loop turn is writing: the replica's fields and the DB snapshot the hash starts
 * from (taken synchronously) then describe the same applied state.
 */
export async function summarizeReplica(
  db: LedgerDb,
  replica: Replica,
  nodeOfReplica: ReadonlyMap<ReplicaId, NodeId>,
  includeStateHash: boolean,
): Promise<ReplicaSummary> {
  const st = replica.raw.status();
  const hash = includeStateHash ? hashReplicaState(db, replica) : undefined;
  const s: ReplicaSummary = {
    shardId: replica.shard.id,
    replicaId: replica.replicaId,
    role: st.softState.role,
    term: st.hardState.term,
    leaderReplicaId: st.softState.leader,
    leaderNodeId: nodeOfReplica.get(st.softState.leader) ?? "",
    commitIndex: st.hardState.commit,
    appliedIndex: replica.applied,
    lastIndex: replica.log.lastIndex(),
    snapshotIndex: replica.log.snapshotMetadata().index,
    caughtUp: replica.caughtUp,
  };
  if (hash !== undefined) s.stateHash = await hash;
  return s;
}
