// A one-shard, three-node cluster config and ReplicaState answers on it, for tests of the
// status views (dev status, the status page) that feed them hand-made node answers.

import { create } from "@bufbuild/protobuf";
import { generateClusterConfig, type NodeId } from "../../src/cluster/config.js";
import { ReplicaStateSchema, type ReplicaRole, type ReplicaState } from "../../src/gen/ledger/node/v1/node_pb.js";

export const oneShardConfig = generateClusterConfig({
  nodes: 3,
  shards: 1,
  replicationFactor: 3,
  basePort: 7000,
  host: "127.0.0.1",
});
export const oneShard = oneShardConfig.shards[0]!;

/** What `nodeId`'s replica of the one shard reports: caught up, commit = applied. */
export function replicaState(
  nodeId: NodeId,
  fields: { role: ReplicaRole; term: bigint; applied: bigint; leaderNodeId: NodeId | "" },
): ReplicaState {
  return create(ReplicaStateSchema, {
    shardId: oneShard.id,
    replicaId: BigInt(oneShard.replicas.find((r) => r.nodeId === nodeId)!.id),
    role: fields.role,
    term: fields.term,
    leaderNodeId: fields.leaderNodeId,
    commitIndex: fields.applied,
    appliedIndex: fields.applied,
    caughtUp: true,
  });
}
