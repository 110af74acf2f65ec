// The cluster map: which nodes exist and which replicas of which shards each one hosts, with a
// version that every change bumps. It is the state machine of the metadata group (a Raft group
// of its own), so applying a command is pure and deterministic, and a command that does not fit
// the map is refused with its reason and changes nothing. cluster_config.json only bootstraps
// it (mapFromConfig).
//
// A replica move is a sequence of map commands around the shard group's own membership changes:
//   add-learner (the map first, so the target node creates the replica) -> Raft AddLearner ->
//   catch-up -> Raft AddVoter -> promote -> leadership off the source -> Raft Remove ->
//   remove-replica (the map last, so the source node destroys its replica only once the group
//   no longer counts it).
// Replica ids come from nextReplicaId and are never reused: a removed replica's votes and log
// must never be mistaken for a new one's.

import type { ReplicaId } from "../raft/index.js";
import type { ClusterConfig, NodeId, ShardId } from "./config-types.js";

export type ReplicaRole = "voter" | "learner";

export interface MapReplica {
  readonly id: ReplicaId;
  readonly nodeId: NodeId;
  readonly role: ReplicaRole;
}

export interface MapShard {
  readonly id: ShardId;
  readonly lowerBound: number;
  readonly upperBound: number;
  /** In preferred-leader order (see src/node/leadership.ts). */
  readonly replicas: readonly MapReplica[];
}

export interface MapNode {
  readonly id: NodeId;
  readonly address: string;
}

export interface ClusterMap {
  readonly version: number;
  readonly nodes: readonly MapNode[];
  readonly shards: readonly MapShard[];
  /** The id the next new replica gets; ids are never reused. */
  readonly nextReplicaId: ReplicaId;
}

export type MapCommand =
  | { readonly kind: "add-node"; readonly nodeId: NodeId; readonly address: string }
  | { readonly kind: "remove-node"; readonly nodeId: NodeId }
  | { readonly kind: "add-learner"; readonly shardId: ShardId; readonly nodeId: NodeId }
  | { readonly kind: "promote"; readonly shardId: ShardId; readonly replicaId: ReplicaId }
  | { readonly kind: "remove-replica"; readonly shardId: ShardId; readonly replicaId: ReplicaId }
  | { readonly kind: "set-preferred"; readonly shardId: ShardId; readonly replicaId: ReplicaId };

export type MapResult = { readonly map: ClusterMap; readonly replicaId?: ReplicaId } | { readonly refused: string };

export function mapFromConfig(config: ClusterConfig): ClusterMap {
  return {
    version: config.version,
    nodes: config.nodes.map((n) => ({ id: n.id, address: n.address })),
    shards: config.shards.map((s) => ({
      id: s.id,
      lowerBound: s.lowerBound,
      upperBound: s.upperBound,
      replicas: s.replicas.map((r) => ({ id: r.id, nodeId: r.nodeId, role: "voter" as const })),
    })),
    nextReplicaId: 1 + Math.max(0, ...config.shards.flatMap((s) => s.replicas.map((r) => r.id))),
  };
}

/** `map` after `cmd` (version + 1), or why `cmd` does not fit (then nothing changes). */
export function applyMapCommand(map: ClusterMap, cmd: MapCommand): MapResult {
  const refused = (why: string): MapResult => ({ refused: why });
  const next = (changes: Partial<Omit<ClusterMap, "version">>, replicaId?: ReplicaId): MapResult => ({
    map: { ...map, ...changes, version: map.version + 1 },
    ...(replicaId === undefined ? {} : { replicaId }),
  });
  const node = (id: NodeId): MapNode | undefined => map.nodes.find((n) => n.id === id);
  switch (cmd.kind) {
    case "add-node": {
      if (node(cmd.nodeId) !== undefined) return refused(`node ${JSON.stringify(cmd.nodeId)} is already in the map`);
      const lower = cmd.address.toLowerCase();
      const taken = map.nodes.find((n) => n.address.toLowerCase() === lower);
      if (taken !== undefined) return refused(`address ${cmd.address} is already node ${JSON.stringify(taken.id)}'s`);
      return next({ nodes: [...map.nodes, { id: cmd.nodeId, address: cmd.address }] });
    }
    case "remove-node": {
      if (node(cmd.nodeId) === undefined) return refused(`node ${JSON.stringify(cmd.nodeId)} is not in the map`);
      const hosted = map.shards.filter((s) => s.replicas.some((r) => r.nodeId === cmd.nodeId)).map((s) => s.id);
      if (hosted.length > 0)
        return refused(
          `node ${JSON.stringify(cmd.nodeId)} still hosts replicas of ${hosted.join(", ")}: move them first`,
        );
      return next({ nodes: map.nodes.filter((n) => n.id !== cmd.nodeId) });
    }
    case "add-learner": {
      const shard = map.shards.find((s) => s.id === cmd.shardId);
      if (shard === undefined) return refused(`shard ${JSON.stringify(cmd.shardId)} is not in the map`);
      if (node(cmd.nodeId) === undefined) return refused(`node ${JSON.stringify(cmd.nodeId)} is not in the map`);
      if (shard.replicas.some((r) => r.nodeId === cmd.nodeId))
        return refused(
          `${shard.id} already has a replica on ${cmd.nodeId} (a shard's replicas must be on distinct nodes)`,
        );
      const pending = shard.replicas.find((r) => r.role === "learner");
      if (pending !== undefined)
        return refused(
          `${shard.id} already has learner ${pending.id} on ${pending.nodeId}: one move at a time per shard`,
        );
      const id = map.nextReplicaId;
      const replicas = [...shard.replicas, { id, nodeId: cmd.nodeId, role: "learner" as const }];
      return next({ shards: replaceShard(map, { ...shard, replicas }), nextReplicaId: id + 1 }, id);
    }
    case "promote":
    case "remove-replica":
    case "set-preferred": {
      const shard = map.shards.find((s) => s.id === cmd.shardId);
      if (shard === undefined) return refused(`shard ${JSON.stringify(cmd.shardId)} is not in the map`);
      const replica = shard.replicas.find((r) => r.id === cmd.replicaId);
      if (replica === undefined) return refused(`${shard.id} has no replica ${cmd.replicaId}`);
      if (cmd.kind === "promote") {
        if (replica.role === "voter") return refused(`replica ${replica.id} of ${shard.id} is already a voter`);
        const replicas = shard.replicas.map((r) => (r.id === replica.id ? { ...r, role: "voter" as const } : r));
        return next({ shards: replaceShard(map, { ...shard, replicas }) });
      }
      if (cmd.kind === "remove-replica") {
        const voters = shard.replicas.filter((r) => r.role === "voter");
        if (replica.role === "voter" && voters.length === 1)
          return refused(`replica ${replica.id} is the only voter of ${shard.id}`);
        return next({ shards: replaceShard(map, { ...shard, replicas: shard.replicas.filter((r) => r !== replica) }) });
      }
      if (replica.role !== "voter") return refused(`replica ${replica.id} of ${shard.id} is a learner: it cannot lead`);
      // The preferred slot is a position in the list, which a learner would shift.
      if (shard.replicas.some((r) => r.role === "learner"))
        return refused(`${shard.id} has a move in progress: set its preferred leader once the move is done`);
      const index = map.shards.indexOf(shard);
      const slot = index % shard.replicas.length;
      const replicas = shard.replicas.slice();
      const from = replicas.indexOf(replica);
      if (from === slot) return refused(`replica ${replica.id} is already ${shard.id}'s preferred leader`);
      [replicas[slot], replicas[from]] = [replicas[from] as MapReplica, replicas[slot] as MapReplica];
      return next({ shards: replaceShard(map, { ...shard, replicas }) });
    }
  }
}

function replaceShard(map: ClusterMap, shard: MapShard): MapShard[] {
  return map.shards.map((s) => (s.id === shard.id ? shard : s));
}
