// Rebalance plans over a cluster map: nodes added get their share of replicas and preferred
// leaders, a node removed is drained, every plan keeps a shard's replicas on distinct nodes,
// plans are deterministic, and planning again after running a plan finds nothing to do.

import { describe, expect, it } from "vitest";
import { generateClusterConfig } from "../../src/cluster/config-generate.js";
import type { ClusterConfig } from "../../src/cluster/config-types.js";
import {
  applyMove,
  moveRefusal,
  planNodeDrain,
  planRebalance,
  preferredNode,
  type RebalancePlan,
} from "../../src/cluster/rebalance.js";

const base = (): ClusterConfig => generateClusterConfig({ nodes: 3, shards: 16, replicationFactor: 3, basePort: 7000 });

function withNodes(config: ClusterConfig, ...ids: string[]): ClusterConfig {
  return {
    ...config,
    nodes: [...config.nodes, ...ids.map((id, i) => ({ id, address: `127.0.0.1:${7100 + i}` }))],
  };
}

/** Runs a plan: every move (fresh replica ids), then the preferred-leader changes. */
function run(config: ClusterConfig, plan: RebalancePlan, keep = config.nodes.map((n) => n.id)): ClusterConfig {
  let c = config;
  let next = 1000;
  for (const m of plan.moves) {
    expect(moveRefusal(c, m)).toBeUndefined();
    c = applyMove(c, m, next++);
  }
  const shards = c.shards.map((s, i) => {
    const lead = plan.leaders.find((l) => l.shardId === s.id);
    if (lead === undefined) return s;
    // Put the chosen replica in the preferred slot (i mod n), as the operation would.
    const replicas = s.replicas.slice();
    const from = replicas.findIndex((r) => r.nodeId === lead.nodeId);
    const slot = i % replicas.length;
    [replicas[slot], replicas[from]] = [replicas[from]!, replicas[slot]!];
    return { ...s, replicas };
  });
  return { ...c, shards, nodes: c.nodes.filter((n) => keep.includes(n.id)) };
}

function counts(config: ClusterConfig): number[] {
  return config.nodes.map((n) => config.shards.filter((s) => s.replicas.some((r) => r.nodeId === n.id)).length);
}

function leaderCounts(config: ClusterConfig): number[] {
  return config.nodes.map((n) => config.shards.filter((s, i) => preferredNode(s, i) === n.id).length);
}

describe("rebalance plans", () => {
  it("spread 16 x 3 replicas over five nodes within one of 48/5, and preferred leaders within one of 16/5", () => {
    const five = withNodes(base(), "node04", "node05");
    const plan = planRebalance(five);
    expect(plan.moves.length).toBeGreaterThan(0);
    const after = run(five, plan);
    for (const n of counts(after)) expect(n === 9 || n === 10).toBe(true);
    for (const n of leaderCounts(after)) expect(n === 3 || n === 4).toBe(true);
    for (const s of after.shards) expect(new Set(s.replicas.map((r) => r.nodeId)).size).toBe(3);
    expect([...plan.replicasAfter.values()].sort()).toEqual(counts(after).sort());
    // Only what is needed moves: 9 replicas to each new node (then 10, 10, 10, 9, 9), nothing else.
    expect(plan.moves.length).toBe(18);
    expect(plan.moves.every((m) => m.to === "node04" || m.to === "node05")).toBe(true);
  });

  it("are deterministic, and a balanced map needs nothing", () => {
    const five = withNodes(base(), "node04", "node05");
    expect(planRebalance(five)).toEqual(planRebalance(five));
    const balanced = planRebalance(base());
    expect(balanced.moves).toEqual([]);
    expect(balanced.leaders).toEqual([]);
    const after = run(five, planRebalance(five));
    expect(planRebalance(after).moves).toEqual([]);
    expect(planRebalance(after).leaders).toEqual([]);
  });

  it("drain a node that is removed onto the others, keeping them balanced", () => {
    const five = run(withNodes(base(), "node04", "node05"), planRebalance(withNodes(base(), "node04", "node05")));
    const plan = planNodeDrain(five, "node01");
    const keep = five.nodes.map((n) => n.id).filter((id) => id !== "node01");
    const after = run(five, plan, keep);
    expect(after.shards.every((s) => s.replicas.every((r) => r.nodeId !== "node01"))).toBe(true);
    expect(counts(after)).toEqual([12, 12, 12, 12]);
    // Every replica of node01 moves once; at most a couple of moves even out what the drain's
    // greedy choices left uneven.
    const onNode01 = five.shards.filter((s) => s.replicas.some((r) => r.nodeId === "node01")).length;
    expect(plan.moves.filter((m) => m.from === "node01").length).toBe(onNode01);
    expect(plan.moves.length).toBeLessThanOrEqual(onNode01 + 2);
  });

  it("refuse to drain a node when too few would remain for the replication factor", () => {
    expect(() => planNodeDrain(base(), "node02")).toThrow(
      "removing node02 would leave 2 nodes for shards of 3 replicas: add a node first",
    );
    expect(() => planNodeDrain(base(), "node09")).toThrow('node "node09" is not in the cluster map');
  });
});

describe("a single move", () => {
  const four = withNodes(base(), "node04");
  const shard = four.shards[0]!;
  const on = shard.replicas[0]!.nodeId;
  it("is refused with the reason: unknown shard or node, no replica there, or a second replica on one node", () => {
    expect(moveRefusal(four, { shardId: "nope", from: on, to: "node04" })).toBe(
      'shard "nope" is not in the cluster map',
    );
    expect(moveRefusal(four, { shardId: shard.id, from: "x", to: "node04" })).toBe(
      'node "x" is not in the cluster map',
    );
    expect(moveRefusal(four, { shardId: shard.id, from: on, to: on })).toMatch(/to itself/);
    expect(moveRefusal(four, { shardId: shard.id, from: "node04", to: on })).toMatch(/has no replica on node04/);
    const other = shard.replicas[1]!.nodeId;
    expect(moveRefusal(four, { shardId: shard.id, from: on, to: other })).toMatch(
      /already has a replica on .* \(a shard's replicas must be on distinct nodes\)/,
    );
  });

  it("replaces the replica in place with a new id on the target", () => {
    const after = applyMove(four, { shardId: shard.id, from: on, to: "node04" }, 77);
    expect(after.shards[0]!.replicas[0]).toEqual({ id: 77, nodeId: "node04" });
    expect(after.shards[0]!.replicas.slice(1)).toEqual(shard.replicas.slice(1));
    expect(after.shards.slice(1)).toEqual(four.shards.slice(1));
  });
});
