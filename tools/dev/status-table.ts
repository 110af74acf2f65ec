// The pure half of `dev status`: each node's answer to ReplicaStates (or why it gave none) ->
// a view of shards by replicas -> the lines printed. No I/O here, so every case (a down node, a
// leaderless shard, a lagging replica) is testable without a cluster.

import Table from "cli-table3";
import { assert } from "../../src/base/assert.js";
import type { ClusterConfig, NodeId, ShardId } from "../../src/cluster/config.js";
import type { ReplicaState } from "../../src/gen/ledger/node/v1/node_pb.js";
import { chooseLeader, escapeControlCharacters, lagBehind, roleName } from "../../src/ops/shard-view.js";

/** One node's answer, or the reason it gave none (its replicas are then shown down). */
export type NodeAnswer = { ok: true; replicas: readonly ReplicaState[] } | { ok: false; reason: string };

export type ReplicaCell =
  | { nodeId: NodeId; replicaId: number; state: "down" }
  /** The node answered but did not report this replica (e.g. still opening it). */
  | { nodeId: NodeId; replicaId: number; state: "missing" }
  | {
      nodeId: NodeId;
      replicaId: number;
      state: "up";
      role: string;
      term: bigint;
      applied: bigint;
      /** The leader's applied index minus this replica's; null when the shard has no leader. */
      lag: bigint | null;
      caughtUp: boolean;
    };

export interface ShardRow {
  shardId: ShardId;
  /** The node whose replica leads, or null when no claim stands (see chooseLeader). */
  leader: NodeId | null;
  replicas: ReplicaCell[];
}

export interface StatusView {
  nodes: number;
  nodesUp: number;
  shards: number;
  shardsWithLeader: number;
  /** The largest lag of any live replica behind its shard's leader; null when no shard has a leader. */
  maxLag: bigint | null;
  rows: ShardRow[];
  down: { nodeId: NodeId; address: string; reason: string }[];
}

/** Builds the view from one answer per configured node (a missing answer is a caller's bug). */
export function buildStatusView(config: ClusterConfig, answers: ReadonlyMap<NodeId, NodeAnswer>): StatusView {
  for (const node of config.nodes) assert(answers.has(node.id), `buildStatusView: no answer for ${node.id}`);
  const rows = config.shards.map((shard): ShardRow => {
    const found = shard.replicas.map((replica) => {
      const answer = answers.get(replica.nodeId);
      const state = answer?.ok === true ? answer.replicas.find((s) => s.shardId === shard.id) : undefined;
      return { replica, answer, state };
    });
    const leader = chooseLeader(found.map(({ replica, state }) => ({ nodeId: replica.nodeId, state })));
    const replicas = found.map(({ replica, answer, state }): ReplicaCell => {
      const base = { nodeId: replica.nodeId, replicaId: replica.id };
      if (answer?.ok !== true) return { ...base, state: "down" };
      if (state === undefined) return { ...base, state: "missing" };
      return {
        ...base,
        state: "up",
        role: roleName(state.role),
        term: state.term,
        applied: state.appliedIndex,
        lag: leader === undefined ? null : lagBehind(leader.state.appliedIndex, state.appliedIndex),
        caughtUp: state.caughtUp,
      };
    });
    return { shardId: shard.id, leader: leader?.nodeId ?? null, replicas };
  });
  let maxLag: bigint | null = null;
  for (const row of rows) {
    for (const cell of row.replicas) {
      if (cell.state === "up" && cell.lag !== null && (maxLag === null || cell.lag > maxLag)) maxLag = cell.lag;
    }
  }
  const down = config.nodes.flatMap((node) => {
    const answer = answers.get(node.id)!;
    // Escaped again here: whatever a caller passes in, the terminal must not get control characters.
    return answer.ok
      ? []
      : [{ nodeId: node.id, address: node.address, reason: escapeControlCharacters(answer.reason) }];
  });
  return {
    nodes: config.nodes.length,
    nodesUp: config.nodes.length - down.length,
    shards: rows.length,
    shardsWithLeader: rows.filter((r) => r.leader !== null).length,
    maxLag,
    rows,
    down,
  };
}

export const noLeaderMark = "NO LEADER";
export const lagLegend = "lag = the shard leader's applied index minus the replica's";

export function summaryLine(view: StatusView): string {
  const lag = view.maxLag === null ? "-" : `${view.maxLag} ${view.maxLag === 1n ? "entry" : "entries"}`;
  return `nodes up ${view.nodesUp}/${view.nodes}, shards with a leader ${view.shardsWithLeader}/${view.shards}, max lag ${lag}`;
}

/** One replica as a table cell: "node01 leader t3 @1042 lag 0". */
export function replicaCellText(cell: ReplicaCell): string {
  if (cell.state !== "up") return `${cell.nodeId} ${cell.state}`;
  const lag = cell.lag === null ? "lag -" : `lag ${cell.lag}`;
  const replaying = cell.caughtUp ? "" : " (replaying)";
  return `${cell.nodeId} ${cell.role} t${cell.term} @${cell.applied} ${lag}${replaying}`;
}

/** The whole printout: summary line, table, legend, and the unreachable nodes if any. */
export function renderStatus(view: StatusView): string[] {
  const width = Math.max(1, ...view.rows.map((r) => r.replicas.length));
  const head = ["shard", "leader", ...Array.from({ length: width }, (_, i) => `replica ${i + 1}`)];
  // No colors: the output is read in logs and pipes as often as in a terminal. No rule between
  // rows: 16 shards must fit a terminal under --watch.
  const table = new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" },
  });
  for (const row of view.rows) {
    const cells = row.replicas.map(replicaCellText);
    while (cells.length < width) cells.push("");
    table.push([row.shardId, row.leader ?? noLeaderMark, ...cells]);
  }
  const lines = [
    summaryLine(view),
    ...table.toString().split("\n"),
    `replica: node role t<term> @<applied index> lag <entries>; ${lagLegend}`,
  ];
  if (view.down.length > 0) {
    lines.push(`unreachable: ${view.down.map((d) => `${d.nodeId} at ${d.address} (${d.reason})`).join("; ")}`);
  }
  return lines;
}
