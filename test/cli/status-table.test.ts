// The pure half of `dev status`: node answers -> view -> printed lines.

import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { generateClusterConfig, type NodeId } from "../../src/cluster/config.js";
import { ReplicaRole, ReplicaStateSchema, type ReplicaState } from "../../src/gen/ledger/node/v1/node_pb.js";
import {
  buildStatusView,
  noLeaderMark,
  renderStatus,
  replicaCellText,
  summaryLine,
  type NodeAnswer,
} from "../../tools/dev/status-table.js";
import { oneShard, oneShardConfig, replicaState } from "../support/replica-state-fixtures.js";

const config = generateClusterConfig({ nodes: 3, shards: 2, replicationFactor: 3, basePort: 7000, host: "127.0.0.1" });
const [shardA, shardB] = config.shards.map((s) => s.id) as [string, string];

function state(shardId: string, role: ReplicaRole, term: bigint, applied: bigint): ReplicaState {
  const replicaId = BigInt(config.shards.find((s) => s.id === shardId)!.replicas[0]!.id);
  return create(ReplicaStateSchema, {
    shardId,
    replicaId,
    role,
    term,
    appliedIndex: applied,
    commitIndex: applied,
    caughtUp: true,
  });
}

function up(...replicas: ReplicaState[]): NodeAnswer {
  return { ok: true, replicas };
}

function answers(entries: [NodeId, NodeAnswer][]): Map<NodeId, NodeAnswer> {
  return new Map(entries);
}

describe("buildStatusView", () => {
  it("marks each shard's leader and computes lag as the leader's applied index minus the replica's", () => {
    const view = buildStatusView(
      config,
      answers([
        ["node01", up(state(shardA, ReplicaRole.LEADER, 3n, 100n), state(shardB, ReplicaRole.FOLLOWER, 2n, 40n))],
        ["node02", up(state(shardA, ReplicaRole.FOLLOWER, 3n, 97n), state(shardB, ReplicaRole.LEADER, 2n, 50n))],
        ["node03", up(state(shardA, ReplicaRole.FOLLOWER, 3n, 100n), state(shardB, ReplicaRole.FOLLOWER, 2n, 50n))],
      ]),
    );
    expect(view.rows.map((r) => r.leader)).toEqual(["node01", "node02"]);
    const lags = view.rows.map((r) => r.replicas.map((c) => `${c.nodeId}:${c.state === "up" ? c.lag : c.state}`));
    expect(lags[0]!.sort()).toEqual(["node01:0", "node02:3", "node03:0"]);
    expect(lags[1]!.sort()).toEqual(["node01:10", "node02:0", "node03:0"]);
    expect(view).toMatchObject({ nodes: 3, nodesUp: 3, shards: 2, shardsWithLeader: 2, maxLag: 10n, down: [] });
  });

  it("shows a node that did not answer as down, its replicas down, and keeps the rest", () => {
    const view = buildStatusView(
      config,
      answers([
        ["node01", up(state(shardA, ReplicaRole.LEADER, 4n, 10n), state(shardB, ReplicaRole.LEADER, 4n, 10n))],
        ["node02", { ok: false, reason: "UNAVAILABLE: connection refused" }],
        ["node03", up(state(shardA, ReplicaRole.FOLLOWER, 4n, 8n), state(shardB, ReplicaRole.FOLLOWER, 4n, 10n))],
      ]),
    );
    expect(view.nodesUp).toBe(2);
    expect(view.down).toEqual([
      { nodeId: "node02", address: config.nodes[1]!.address, reason: "UNAVAILABLE: connection refused" },
    ]);
    for (const row of view.rows) expect(row.replicas.find((c) => c.nodeId === "node02")?.state).toBe("down");
    expect(view.maxLag).toBe(2n);
    const lines = renderStatus(view);
    expect(lines[0]).toBe("nodes up 2/3, shards with a leader 2/2, max lag 2 entries");
    expect(lines.filter((l) => l.includes("node02 down"))).toHaveLength(2);
    expect(lines.at(-1)).toBe(`unreachable: node02 at ${config.nodes[1]!.address} (UNAVAILABLE: connection refused)`);
  });

  it("marks a shard with no leader, leaves its lag unknown, and counts it out of the summary", () => {
    const view = buildStatusView(
      config,
      answers([
        ["node01", up(state(shardA, ReplicaRole.CANDIDATE, 5n, 10n), state(shardB, ReplicaRole.LEADER, 1n, 3n))],
        ["node02", up(state(shardA, ReplicaRole.FOLLOWER, 4n, 10n), state(shardB, ReplicaRole.FOLLOWER, 1n, 3n))],
        ["node03", up(state(shardA, ReplicaRole.PRE_CANDIDATE, 4n, 9n), state(shardB, ReplicaRole.FOLLOWER, 1n, 3n))],
      ]),
    );
    expect(view.rows[0]!.leader).toBeNull();
    expect(view.rows[0]!.replicas.every((c) => c.state === "up" && c.lag === null)).toBe(true);
    expect(view.shardsWithLeader).toBe(1);
    const lines = renderStatus(view);
    const rowA = lines.find((l) => l.includes(shardA))!;
    expect(rowA).toContain(noLeaderMark);
    expect(rowA).toContain("node01 candidate t5 @10 lag -");
    expect(rowA).toContain("node03 pre-candidate t4 @9 lag -");
    expect(lines.find((l) => l.includes(shardB))).not.toContain(noLeaderMark);
    expect(lines.some((l) => l.startsWith("unreachable:"))).toBe(false);
  });

  it("prefers the higher term when a deposed leader still claims leadership", () => {
    const view = buildStatusView(
      config,
      answers([
        ["node01", up(state(shardA, ReplicaRole.LEADER, 6n, 20n))],
        ["node02", up(state(shardA, ReplicaRole.LEADER, 7n, 25n))],
        ["node03", up(state(shardA, ReplicaRole.FOLLOWER, 7n, 25n))],
      ]),
    );
    expect(view.rows[0]!.leader).toBe("node02");
    expect(view.rows[0]!.replicas.find((c) => c.nodeId === "node01")).toMatchObject({ lag: 5n });
    // The nodes answered but did not report shard B's replicas.
    expect(view.rows[1]!.replicas.map((c) => c.state)).toEqual(["missing", "missing", "missing"]);
    expect(view.rows[1]!.leader).toBeNull();
  });

  it("names no leader for a deposed replica whose term a live replica has moved past under a leader that is now unreachable", () => {
    // node03 won term 7 (node02 follows it) and then became unreachable; node01, cut off since
    // term 6, still believes it leads. A majority has moved to term 7: node01 leads nothing.
    const view = buildStatusView(
      oneShardConfig,
      answers([
        [
          "node01",
          up(replicaState("node01", { role: ReplicaRole.LEADER, term: 6n, applied: 90n, leaderNodeId: "node01" })),
        ],
        [
          "node02",
          up(replicaState("node02", { role: ReplicaRole.FOLLOWER, term: 7n, applied: 120n, leaderNodeId: "node03" })),
        ],
        ["node03", { ok: false, reason: "DEADLINE_EXCEEDED: no answer" }],
      ]),
    );
    expect(view.rows[0]!.leader).not.toBe("node01");
    // The printed leader column (the table's second column) does not name it either.
    const row = renderStatus(view).find((l) => l.includes(oneShard.id))!;
    expect(row.split("│")[2]?.trim()).not.toBe("node01");
  });

  it("with every node down: nothing up, no leader, no lag", () => {
    const down: NodeAnswer = { ok: false, reason: "DEADLINE_EXCEEDED" };
    const view = buildStatusView(
      config,
      answers([
        ["node01", down],
        ["node02", down],
        ["node03", down],
      ]),
    );
    expect(summaryLine(view)).toBe("nodes up 0/3, shards with a leader 0/2, max lag -");
    expect(view.down.map((d) => d.nodeId)).toEqual(["node01", "node02", "node03"]);
  });
});

describe("replicaCellText", () => {
  it("names a replica that is still replaying its log", () => {
    expect(
      replicaCellText({
        nodeId: "node01",
        replicaId: 1,
        state: "up",
        role: "follower",
        term: 2n,
        applied: 7n,
        lag: 1n,
        caughtUp: false,
      }),
    ).toBe("node01 follower t2 @7 lag 1 (replaying)");
  });
});

describe("renderStatus", () => {
  it("prints the summary, a header with the leader and one column per replica, one row per shard, and the lag legend", () => {
    const view = buildStatusView(
      config,
      answers([
        ["node01", up(state(shardA, ReplicaRole.LEADER, 1n, 5n), state(shardB, ReplicaRole.LEADER, 1n, 5n))],
        ["node02", up(state(shardA, ReplicaRole.FOLLOWER, 1n, 5n), state(shardB, ReplicaRole.FOLLOWER, 1n, 4n))],
        ["node03", up(state(shardA, ReplicaRole.FOLLOWER, 1n, 5n), state(shardB, ReplicaRole.FOLLOWER, 1n, 5n))],
      ]),
    );
    const lines = renderStatus(view);
    expect(lines[0]).toBe("nodes up 3/3, shards with a leader 2/2, max lag 1 entry");
    expect(lines.find((l) => l.includes("shard") && l.includes("leader") && l.includes("replica 3"))).toBeDefined();
    expect(lines.filter((l) => l.includes(shardA) || l.includes(shardB))).toHaveLength(2);
    expect(lines.find((l) => l.includes(shardB))).toContain("node02 follower t1 @4 lag 1");
    expect(lines.at(-1)).toBe(
      "replica: node role t<term> @<applied index> lag <entries>; lag = the shard leader's applied index minus the replica's",
    );
    // No ANSI colors in the table.
    expect(lines.join("\n")).not.toContain("\x1b[");
  });
});
