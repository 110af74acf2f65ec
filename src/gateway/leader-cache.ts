// The gateway's belief about which node leads each shard: one entry per shard of the config, so
// it never grows. It starts at each shard's preferred leader (the rule the nodes use when they
// hand leadership out once the cluster is up) and moves on NOT_LEADER hints and on answers.

import { assert } from "../base/assert.js";
import type { Logger } from "../base/logger.js";
import type { ClusterConfig, NodeId, ShardConfig, ShardId } from "../cluster/config.js";

/** The replica that should lead the shard at `shardIndex` (its position in config.shards):
 * spreads the leaders of consecutive shards over the nodes. */
export function preferredLeaderNode(shard: ShardConfig, shardIndex: number): NodeId {
  const replica = shard.replicas[shardIndex % shard.replicas.length];
  assert(replica !== undefined, `shard ${shard.id} has no replicas`);
  return replica.nodeId;
}

export class LeaderCache {
  private readonly leaders = new Map<ShardId, NodeId>();
  private readonly replicaNodes = new Map<ShardId, readonly NodeId[]>();

  constructor(
    config: ClusterConfig,
    private readonly logger: Logger,
  ) {
    config.shards.forEach((shard, index) => {
      this.leaders.set(shard.id, preferredLeaderNode(shard, index));
      this.replicaNodes.set(
        shard.id,
        shard.replicas.map((r) => r.nodeId),
      );
    });
  }

  leader(shardId: ShardId): NodeId {
    const node = this.leaders.get(shardId);
    assert(node !== undefined, `unknown shard ${shardId}`);
    return node;
  }

  /** The shard's nodes to try in order: the cached leader first, then the others in replica order. */
  candidates(shardId: ShardId): NodeId[] {
    const leader = this.leader(shardId);
    return [leader, ...this.nodesOf(shardId).filter((n) => n !== leader)];
  }

  /** Whether `nodeId` hosts a replica of the shard (a hint naming any other node is ignored). */
  hosts(shardId: ShardId, nodeId: NodeId): boolean {
    return this.nodesOf(shardId).includes(nodeId);
  }

  /** Records `nodeId` as the shard's leader; `reason` is for the debug log only. */
  set(shardId: ShardId, nodeId: NodeId, reason: "hint" | "answered" | "timed out"): void {
    assert(this.hosts(shardId, nodeId), `${nodeId} hosts no replica of ${shardId}`);
    const previous = this.leader(shardId);
    if (previous === nodeId) return;
    this.leaders.set(shardId, nodeId);
    this.logger.debug({ shard: shardId, from: previous, to: nodeId, reason }, "leader changed");
  }

  /**
   * The cached leader held a call until its deadline with no answer (paused, partitioned,
   * stalled). No hint will ever come from it, so without this every later call would wait on it
   * too: move the next call to another replica, which answers or points at the real leader.
   */
  demote(shardId: ShardId, nodeId: NodeId): void {
    if (this.leader(shardId) !== nodeId) return;
    // The next replica after it in config order, cyclically: two silent nodes (a paused leader
    // and a follower forwarding to it) cannot pass the cache back and forth forever.
    const nodes = this.nodesOf(shardId);
    const next = nodes[(nodes.indexOf(nodeId) + 1) % nodes.length];
    if (next !== undefined && next !== nodeId) this.set(shardId, next, "timed out");
  }

  private nodesOf(shardId: ShardId): readonly NodeId[] {
    const nodes = this.replicaNodes.get(shardId);
    assert(nodes !== undefined, `unknown shard ${shardId}`);
    return nodes;
  }
}
