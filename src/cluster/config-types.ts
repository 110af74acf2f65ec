// The cluster config's types (DESIGN.md §8), apart from the modules that parse, check and
// generate it, which all use them (config.ts re-exports everything for callers).

import type { ReplicaId } from "../raft/index.js";

export type NodeId = string;
export type ShardId = string;

export interface NodeConfig {
  id: NodeId;
  /** host:port of the node's internal gRPC endpoint (peer streams and the node API). */
  address: string;
}

export interface ReplicaConfig {
  id: ReplicaId;
  nodeId: NodeId;
}

export interface ShardConfig {
  id: ShardId;
  /** Inclusive 32-bit shard key bounds. */
  lowerBound: number;
  upperBound: number;
  replicas: ReplicaConfig[];
}

export interface ClusterConfig {
  /** Bumped whenever the file changes meaning; processes of one cluster must agree on it. */
  version: number;
  nodes: NodeConfig[];
  shards: ShardConfig[];
}
