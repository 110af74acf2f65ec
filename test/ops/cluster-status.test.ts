// Assembly of the status page's cluster document from fake ReplicaStates answers.

import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { generateClusterConfig, type ClusterConfig, type NodeId } from "../../src/cluster/config.js";
import { ReplicaRole, ReplicaStateSchema, type ReplicaState } from "../../src/gen/ledger/node/v1/node_pb.js";
import { assembleClusterStatus, type NodeReport } from "../../src/gateway/cluster-status.js";
import { oneShardConfig, replicaState } from "../support/replica-state-fixtures.js";

const config: ClusterConfig = generateClusterConfig({ nodes: 3, shards: 4, replicationFactor: 3, basePort: 7000 });
const gatheredAtMs = Date.UTC(2026, 0, 2, 3, 4, 5);

interface Fake {
  role: ReplicaRole;
  term?: bigint;
  applied?: bigint;
}

/** Every node up; `plan[shardIndex][nodeId]` overrides a replica (default: a follower at term 2, applied 100). */
function reportsFor(
  plan: Record<number, Record<NodeId, Fake>>,
  down: Record<NodeId, string> = {},
  leaveOut: { shard: number; node: NodeId }[] = [],
): Map<NodeId, NodeReport> {
  const reports = new Map<NodeId, NodeReport>();
  for (const node of config.nodes) {
    if (down[node.id] !== undefined) {
      reports.set(node.id, { ok: false, reason: down[node.id]! });
      continue;
    }
    const replicas: ReplicaState[] = [];
    config.shards.forEach((shard, i) => {
      const replica = shard.replicas.find((r) => r.nodeId === node.id);
      if (!replica || leaveOut.some((l) => l.shard === i && l.node === node.id)) return;
      const fake = plan[i]?.[node.id] ?? { role: ReplicaRole.FOLLOWER };
      replicas.push(
        create(ReplicaStateSchema, {
          shardId: shard.id,
          replicaId: BigInt(replica.id),
          role: fake.role,
          term: fake.term ?? 2n,
          commitIndex: fake.applied ?? 100n,
          appliedIndex: fake.applied ?? 100n,
          lastIndex: fake.applied ?? 100n,
          caughtUp: true,
        }),
      );
    });
    reports.set(node.id, { ok: true, replicas });
  }
  return reports;
}

const leader = (applied = 100n, term = 2n): Fake => ({ role: ReplicaRole.LEADER, applied, term });

describe("assembleClusterStatus", () => {
  it("names each shard's leader, counts the shards each node leads and gives every replica's lag behind its leader", () => {
    const status = assembleClusterStatus(
      config,
      reportsFor({
        0: {
          node01: leader(120n),
          node02: { role: ReplicaRole.FOLLOWER, applied: 117n },
          node03: { role: ReplicaRole.FOLLOWER, applied: 120n },
        },
        1: { node02: leader() },
        2: { node02: leader() },
        3: { node03: leader() },
      }),
      gatheredAtMs,
    );
    expect(status.gatheredAt).toBe("2026-01-02T03:04:05.000Z");
    expect(status.summary).toEqual({ nodes: 3, nodesUp: 3, shards: 4, shardsWithLeader: 4 });
    expect(status.nodes.map((n) => [n.id, n.state, n.leads, n.replicas])).toEqual([
      ["node01", "up", 1, 4],
      ["node02", "up", 2, 4],
      ["node03", "up", 1, 4],
    ]);
    expect(status.nodes[0]).toEqual({
      id: "node01",
      address: config.nodes[0]!.address,
      state: "up",
      leads: 1,
      replicas: 4,
    });
    const shard0 = status.shards[0]!;
    expect(shard0).toMatchObject({ id: config.shards[0]!.id, leader: "node01", term: "2" });
    expect(shard0.replicas).toEqual([
      {
        nodeId: "node01",
        replicaId: config.shards[0]!.replicas.find((r) => r.nodeId === "node01")!.id,
        state: "up",
        role: "leader",
        term: "2",
        commitIndex: "120",
        appliedIndex: "120",
        lag: "0",
        caughtUp: true,
      },
      expect.objectContaining({ nodeId: "node02", role: "follower", appliedIndex: "117", lag: "3" }),
      expect.objectContaining({ nodeId: "node03", role: "follower", appliedIndex: "120", lag: "0" }),
    ]);
  });

  it("shows a node that gave no answer as down with its reason, its replicas down, and its shards without a leader until another is elected", () => {
    const status = assembleClusterStatus(
      config,
      reportsFor(
        { 0: { node01: leader() }, 1: { node01: leader() }, 2: { node02: leader() }, 3: { node03: leader() } },
        { node01: "UNAVAILABLE: connection refused" },
      ),
      gatheredAtMs,
    );
    expect(status.summary).toEqual({ nodes: 3, nodesUp: 2, shards: 4, shardsWithLeader: 2 });
    expect(status.nodes[0]).toEqual({
      id: "node01",
      address: config.nodes[0]!.address,
      state: "down",
      reason: "UNAVAILABLE: connection refused",
      leads: 0,
      replicas: 4,
    });
    for (const shard of status.shards)
      expect(shard.replicas.find((r) => r.nodeId === "node01")).toEqual({
        nodeId: "node01",
        replicaId: expect.any(Number),
        state: "down",
      });
    expect(status.shards.map((s) => s.leader)).toEqual([null, null, "node02", "node03"]);
    expect(status.shards[0]!.term).toBeNull();
    // Without a leader there is nothing to lag behind.
    expect(status.shards[0]!.replicas.find((r) => r.nodeId === "node02")).not.toHaveProperty("lag");
  });

  it("takes the leader of the higher term when a deposed leader has not yet heard of the election", () => {
    const status = assembleClusterStatus(
      config,
      reportsFor({
        0: { node01: leader(90n, 3n), node02: leader(95n, 4n), node03: { role: ReplicaRole.CANDIDATE, term: 4n } },
      }),
      gatheredAtMs,
    );
    const shard = status.shards[0]!;
    expect(shard).toMatchObject({ leader: "node02", term: "4" });
    expect(shard.replicas.map((r) => [r.nodeId, r.role, r.lag])).toEqual([
      ["node01", "leader", "5"],
      ["node02", "leader", "0"],
      ["node03", "candidate", "0"],
    ]);
    expect(status.nodes.find((n) => n.id === "node01")!.leads).toBe(0);
  });

  it("names no leader when the only claim is at a term a live replica has moved past (a newer election)", () => {
    const status = assembleClusterStatus(
      config,
      reportsFor({
        0: {
          node01: leader(90n, 3n),
          node02: { role: ReplicaRole.CANDIDATE, term: 4n },
          node03: { role: ReplicaRole.FOLLOWER, term: 3n },
        },
      }),
      gatheredAtMs,
    );
    expect(status.shards[0]).toMatchObject({ leader: null, term: null });
    expect(status.shards[0]!.replicas.every((r) => r.lag === undefined)).toBe(true);
    expect(status.nodes.find((n) => n.id === "node01")!.leads).toBe(0);
  });

  it("names no leader for a deposed replica whose term a live replica has moved past under a leader that is now unreachable", () => {
    // node03 won term 7 (node02 follows it) and then became unreachable; node01, cut off since
    // term 6, still believes it leads. A majority has moved to term 7: node01 leads nothing.
    const reports = new Map<NodeId, NodeReport>([
      [
        "node01",
        {
          ok: true,
          replicas: [
            replicaState("node01", { role: ReplicaRole.LEADER, term: 6n, applied: 90n, leaderNodeId: "node01" }),
          ],
        },
      ],
      [
        "node02",
        {
          ok: true,
          replicas: [
            replicaState("node02", { role: ReplicaRole.FOLLOWER, term: 7n, applied: 120n, leaderNodeId: "node03" }),
          ],
        },
      ],
      ["node03", { ok: false, reason: "DEADLINE_EXCEEDED: no answer" }],
    ]);
    const status = assembleClusterStatus(oneShardConfig, reports, Date.UTC(2026, 0, 1));
    expect(status.shards[0]!.leader).not.toBe("node01");
    expect(status.nodes.find((n) => n.id === "node01")!.leads).toBe(0);
  });

  it("marks a replica an up node did not report as missing", () => {
    const status = assembleClusterStatus(
      config,
      reportsFor({ 1: { node01: leader() } }, {}, [{ shard: 1, node: "node03" }]),
      gatheredAtMs,
    );
    expect(status.shards[1]!.replicas.find((r) => r.nodeId === "node03")).toEqual({
      nodeId: "node03",
      replicaId: expect.any(Number),
      state: "missing",
    });
  });

  it("writes indices above 2^53 as exact decimal strings, so the document survives JSON", () => {
    const big = 2n ** 60n + 7n;
    const status = assembleClusterStatus(config, reportsFor({ 0: { node01: leader(big, big) } }), gatheredAtMs);
    const parsed = JSON.parse(JSON.stringify(status)) as typeof status;
    expect(parsed.shards[0]!.term).toBe("1152921504606846983");
    expect(parsed.shards[0]!.replicas[0]!.appliedIndex).toBe("1152921504606846983");
    expect(parsed.shards[0]!.replicas[1]!.lag).toBe((big - 100n).toString());
  });
});
