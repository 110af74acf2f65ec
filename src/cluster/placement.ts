// Questions the node and the gateway ask of a validated config: which replicas does this node
// host, and where do a shard's replicas live. Lookups by id go through maps built once, not
// scans per request.

import { assert } from "../base/assert.js";
import type { ClusterConfig, NodeConfig, NodeId, ReplicaConfig, ShardConfig } from "./config-types.js";

export interface HostedReplica {
  shard: ShardConfig;
  replica: ReplicaConfig;
}

export class Placement {
  private readonly nodes: ReadonlyMap<NodeId, NodeConfig>;

  constructor(readonly config: ClusterConfig) {
    this.nodes = new Map(config.nodes.map((n) => [n.id, n]));
  }

  /** The node with this id, or undefined if the config has none. */
  node(nodeId: NodeId): NodeConfig | undefined {
    return this.nodes.get(nodeId);
  }

  /** The replicas `nodeId` hosts, in shard order (one per shard at most). */
  replicasOnNode(nodeId: NodeId): HostedReplica[] {
    return this.config.shards.flatMap((shard) =>
      shard.replicas.filter((r) => r.nodeId === nodeId).map((replica) => ({ shard, replica })),
    );
  }

  /** The nodes hosting `shard`'s replicas, in the shard's replica order. */
  nodesOfShard(shard: ShardConfig): NodeConfig[] {
    return shard.replicas.map((r) => {
      const node = this.nodes.get(r.nodeId);
      assert(node !== undefined, `replica ${r.id} of ${shard.id} is on unknown node ${r.nodeId}: config not validated`);
      return node;
    });
  }
}
