// What the status page shows about the cluster, assembled from each node's answer to the admin
// call ReplicaStates (or the reason it gave none). Pure: the gateway gathers the answers
// (status-page/node-states.ts), this turns them into a JSON-safe document. Raft indices are
// uint64 (bigint): they travel as decimal strings, never as JSON numbers that a reader would
// round above 2^53.

import type { ClusterConfig, NodeId, ShardId } from "../cluster/config.js";
import type { ReplicaState } from "../gen/ledger/node/v1/node_pb.js";
import { assert } from "../base/assert.js";
import { chooseLeader, lagBehind, roleName, type RoleName } from "../ops/shard-view.js";

export type { RoleName } from "../ops/shard-view.js";

/** One node's answer: its replicas' states, or why it gave none (it is then shown down). */
export type NodeReport = { ok: true; replicas: readonly ReplicaState[] } | { ok: false; reason: string };

export interface NodeStatus {
  id: NodeId;
  address: string;
  state: "up" | "down";
  /** Why the node is shown down; absent when up. */
  reason?: string;
  /** Shards whose leader is this node (0 when down). */
  leads: number;
  /** Replicas the config places on this node. */
  replicas: number;
}

export interface ReplicaStatus {
  nodeId: NodeId;
  replicaId: number;
  /** "missing": the node is up but did not report this replica (e.g. still opening it). */
  state: "up" | "down" | "missing";
  /** The rest only when up. */
  role?: RoleName;
  term?: string;
  commitIndex?: string;
  appliedIndex?: string;
  /** Entries the leader has applied that this replica has not; absent when the shard has no leader. */
  lag?: string;
  /** False while the replica replays its log after a restart. */
  caughtUp?: boolean;
}

export interface ShardStatus {
  id: ShardId;
  /** The node whose replica leads, or null when no live replica's claim stands (see chooseLeader). */
  leader: NodeId | null;
  /** The leader's term, when there is a leader. */
  term: string | null;
  replicas: ReplicaStatus[];
}

export interface ClusterStatus {
  /** When the node states were gathered (ISO 8601). */
  gatheredAt: string;
  summary: { nodes: number; nodesUp: number; shards: number; shardsWithLeader: number };
  nodes: NodeStatus[];
  shards: ShardStatus[];
}

/** Builds the document from one report per configured node (every node must have one). */
export function assembleClusterStatus(
  config: ClusterConfig,
  reports: ReadonlyMap<NodeId, NodeReport>,
  gatheredAtMs: number,
): ClusterStatus {
  for (const node of config.nodes) assert(reports.has(node.id), `assembleClusterStatus: no report for ${node.id}`);
  const shards = config.shards.map((shard) => shardStatus(shard.id, shard.replicas, reports));
  const nodes: NodeStatus[] = config.nodes.map((node) => {
    const report = reports.get(node.id)!;
    const hosted = config.shards.filter((s) => s.replicas.some((r) => r.nodeId === node.id)).length;
    const base = { id: node.id, address: node.address, replicas: hosted };
    if (!report.ok) return { ...base, state: "down", reason: report.reason, leads: 0 };
    return { ...base, state: "up", leads: shards.filter((s) => s.leader === node.id).length };
  });
  return {
    gatheredAt: new Date(gatheredAtMs).toISOString(),
    summary: {
      nodes: nodes.length,
      nodesUp: nodes.filter((n) => n.state === "up").length,
      shards: shards.length,
      shardsWithLeader: shards.filter((s) => s.leader !== null).length,
    },
    nodes,
    shards,
  };
}

function shardStatus(
  shardId: ShardId,
  placement: readonly { id: number; nodeId: NodeId }[],
  reports: ReadonlyMap<NodeId, NodeReport>,
): ShardStatus {
  const live = placement.map((replica) => {
    const report = reports.get(replica.nodeId);
    const state = report?.ok ? report.replicas.find((s) => s.shardId === shardId) : undefined;
    return { replica, report, state };
  });
  const leader = chooseLeader(live.map(({ replica, state }) => ({ nodeId: replica.nodeId, state })));
  const replicas = live.map(({ replica, report, state }): ReplicaStatus => {
    const base = { nodeId: replica.nodeId, replicaId: replica.id };
    if (!report?.ok) return { ...base, state: "down" };
    if (state === undefined) return { ...base, state: "missing" };
    const status: ReplicaStatus = {
      ...base,
      state: "up",
      role: roleName(state.role),
      term: state.term.toString(),
      commitIndex: state.commitIndex.toString(),
      appliedIndex: state.appliedIndex.toString(),
      caughtUp: state.caughtUp,
    };
    if (leader !== undefined) {
      status.lag = lagBehind(leader.state.appliedIndex, state.appliedIndex).toString();
    }
    return status;
  });
  return { id: shardId, leader: leader?.nodeId ?? null, term: leader?.state.term.toString() ?? null, replicas };
}
