// Where replicas should move when the set of nodes changes: pure plans over a cluster map, for
// `dev rebalance` (with --dry-run), `dev node remove` and `dev replica move`. A plan is a list of
// single-replica moves; each move is carried out by the membership protocol (a learner on the
// target, catch-up, promotion, leadership off the source if needed, removal of the source), so
// a shard never has fewer voters than its replication factor except inside one move.
//
// Balance: every node holds floor(R/N) or ceil(R/N) of the R replicas, and is the preferred
// leader of floor(S/N) or ceil(S/N) of the S shards. Plans are deterministic (ties go to the
// lowest node id in config order), so a plan printed by --dry-run is the plan that runs, and
// planning again after a finished plan finds nothing to do.

import type { ClusterConfig, NodeId, ShardConfig, ShardId } from "./config-types.js";

export interface ReplicaMove {
  shardId: ShardId;
  from: NodeId;
  to: NodeId;
}

export interface RebalancePlan {
  /** Replica moves, in the order to run them. */
  moves: ReplicaMove[];
  /** For each shard whose preferred leader should change: the node to lead it. */
  leaders: { shardId: ShardId; nodeId: NodeId }[];
  /** Replicas per node before and after the moves, in config node order. */
  replicasBefore: Map<NodeId, number>;
  replicasAfter: Map<NodeId, number>;
}

/** Why `move` cannot be made on `config`, or undefined if it can. */
export function moveRefusal(config: ClusterConfig, move: ReplicaMove): string | undefined {
  const shard = config.shards.find((s) => s.id === move.shardId);
  if (shard === undefined) return `shard ${JSON.stringify(move.shardId)} is not in the cluster map`;
  const nodes = new Set(config.nodes.map((n) => n.id));
  if (!nodes.has(move.from)) return `node ${JSON.stringify(move.from)} is not in the cluster map`;
  if (!nodes.has(move.to)) return `node ${JSON.stringify(move.to)} is not in the cluster map`;
  if (move.from === move.to) return `${move.shardId}: a replica cannot move from ${move.from} to itself`;
  if (!shard.replicas.some((r) => r.nodeId === move.from)) return `${move.shardId} has no replica on ${move.from}`;
  if (shard.replicas.some((r) => r.nodeId === move.to))
    return `${move.shardId} already has a replica on ${move.to} (a shard's replicas must be on distinct nodes)`;
  return undefined;
}

/**
 * `config` after `move`: the replica on `from` is replaced by replica `newReplicaId` on `to`, at
 * the same position in the shard's list (so the shard's preferred leader slot moves with it).
 */
export function applyMove(config: ClusterConfig, move: ReplicaMove, newReplicaId: number): ClusterConfig {
  const why = moveRefusal(config, move);
  if (why !== undefined) throw new Error(why);
  return {
    ...config,
    shards: config.shards.map((s) =>
      s.id !== move.shardId
        ? s
        : {
            ...s,
            replicas: s.replicas.map((r) => (r.nodeId === move.from ? { id: newReplicaId, nodeId: move.to } : r)),
          },
    ),
  };
}

function replicaCounts(config: ClusterConfig): Map<NodeId, number> {
  const counts = new Map<NodeId, number>(config.nodes.map((n) => [n.id, 0]));
  for (const s of config.shards) for (const r of s.replicas) counts.set(r.nodeId, (counts.get(r.nodeId) ?? 0) + 1);
  return counts;
}

/** Plans moves off the nodes not in `keep` and then evens out replica counts over `keep`. */
function planMoves(config: ClusterConfig, keep: readonly NodeId[]): ReplicaMove[] {
  const keepSet = new Set(keep);
  const shards = config.shards.map((s) => ({ id: s.id, nodes: s.replicas.map((r) => r.nodeId) }));
  const counts = new Map<NodeId, number>(keep.map((id) => [id, 0]));
  for (const s of shards) for (const n of s.nodes) if (keepSet.has(n)) counts.set(n, (counts.get(n) ?? 0) + 1);
  const moves: ReplicaMove[] = [];
  /** The least loaded kept node that does not host the shard yet (lowest in config order on ties). */
  const target = (nodes: readonly NodeId[]): NodeId | undefined => {
    let best: NodeId | undefined;
    for (const id of keep) {
      if (nodes.includes(id)) continue;
      if (best === undefined || (counts.get(id) ?? 0) < (counts.get(best) ?? 0)) best = id;
    }
    return best;
  };
  const move = (shard: { id: ShardId; nodes: NodeId[] }, from: NodeId, to: NodeId): void => {
    moves.push({ shardId: shard.id, from, to });
    shard.nodes[shard.nodes.indexOf(from)] = to;
    if (keepSet.has(from)) counts.set(from, (counts.get(from) ?? 0) - 1);
    counts.set(to, (counts.get(to) ?? 0) + 1);
  };
  // Drain the nodes that go.
  for (const shard of shards) {
    for (const from of shard.nodes.slice()) {
      if (keepSet.has(from)) continue;
      const to = target(shard.nodes);
      if (to === undefined)
        throw new Error(`${shard.id} cannot move its replica off ${from}: every remaining node already hosts it`);
      move(shard, from, to);
    }
  }
  // Even out: move from the most to the least loaded node while they differ by more than one.
  for (;;) {
    let most: NodeId | undefined;
    for (const id of keep) if (most === undefined || (counts.get(id) ?? 0) > (counts.get(most) ?? 0)) most = id;
    if (most === undefined) break;
    let done = true;
    for (const shard of shards) {
      if (!shard.nodes.includes(most)) continue;
      const to = target(shard.nodes);
      if (to === undefined || (counts.get(most) ?? 0) - (counts.get(to) ?? 0) <= 1) continue;
      move(shard, most, to);
      done = false;
      break;
    }
    if (done) break;
  }
  return moves;
}

/** Preferred leaders spread over the nodes: the position of each shard's preferred replica. */
function planLeaders(config: ClusterConfig): { shardId: ShardId; nodeId: NodeId }[] {
  const led = new Map<NodeId, number>(config.nodes.map((n) => [n.id, 0]));
  const changes: { shardId: ShardId; nodeId: NodeId }[] = [];
  const quota = Math.ceil(config.shards.length / Math.max(1, config.nodes.length));
  config.shards.forEach((shard, i) => {
    const preferred = preferredNode(shard, i);
    // Keep the current preferred leader while its node is under quota; otherwise the replica
    // whose node leads the fewest shards so far.
    let choice = preferred;
    if ((led.get(preferred) ?? 0) >= quota) {
      for (const r of shard.replicas) if ((led.get(r.nodeId) ?? 0) < (led.get(choice) ?? 0)) choice = r.nodeId;
    }
    led.set(choice, (led.get(choice) ?? 0) + 1);
    if (choice !== preferred) changes.push({ shardId: shard.id, nodeId: choice });
  });
  return changes;
}

/** The node of shard i's preferred replica (see src/node/leadership.ts). */
export function preferredNode(shard: ShardConfig, shardIndex: number): NodeId {
  const r = shard.replicas[shardIndex % shard.replicas.length];
  if (r === undefined) throw new Error(`${shard.id} has no replicas`);
  return r.nodeId;
}

/** Evens out replicas and preferred leaders over every node of `config`. */
export function planRebalance(config: ClusterConfig): RebalancePlan {
  return planFor(
    config,
    config.nodes.map((n) => n.id),
  );
}

/** Moves every replica off `nodeId` (then evens out the rest); throws if the others cannot take them. */
export function planNodeDrain(config: ClusterConfig, nodeId: NodeId): RebalancePlan {
  if (!config.nodes.some((n) => n.id === nodeId))
    throw new Error(`node ${JSON.stringify(nodeId)} is not in the cluster map`);
  const keep = config.nodes.map((n) => n.id).filter((id) => id !== nodeId);
  const rf = Math.max(0, ...config.shards.map((s) => s.replicas.length));
  if (keep.length < rf)
    throw new Error(
      `removing ${nodeId} would leave ${keep.length} nodes for shards of ${rf} replicas: add a node first`,
    );
  return planFor(config, keep);
}

function planFor(config: ClusterConfig, keep: readonly NodeId[]): RebalancePlan {
  const moves = planMoves(config, keep);
  let after = config;
  let nextId = 1 + Math.max(0, ...config.shards.flatMap((s) => s.replicas.map((r) => r.id)));
  for (const m of moves) after = applyMove(after, m, nextId++);
  const keptNodes = { ...after, nodes: after.nodes.filter((n) => keep.includes(n.id)) };
  return {
    moves,
    leaders: planLeaders(keptNodes),
    replicasBefore: replicaCounts(config),
    replicasAfter: replicaCounts(keptNodes),
  };
}
