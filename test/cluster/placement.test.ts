// Placement lookups over a generated config.

import { describe, expect, it } from "vitest";
import { generateClusterConfig } from "../../src/cluster/config.js";
import { Placement } from "../../src/cluster/placement.js";

describe("Placement", () => {
  const config = generateClusterConfig({ nodes: 4, shards: 6, replicationFactor: 3, basePort: 7000 });
  const placement = new Placement(config);

  it("finds nodes by id and answers undefined for an unknown id", () => {
    expect(placement.node("node03")).toEqual({ id: "node03", address: "127.0.0.1:7002" });
    expect(placement.node("node09")).toBeUndefined();
  });

  it("lists each node's replicas in shard order; together they are every replica exactly once", () => {
    const all = config.nodes.flatMap((n) => placement.replicasOnNode(n.id));
    expect(all.map((h) => h.replica.id).sort((a, b) => a - b)).toEqual(
      config.shards.flatMap((s) => s.replicas.map((r) => r.id)).sort((a, b) => a - b),
    );
    for (const node of config.nodes) {
      const hosted = placement.replicasOnNode(node.id);
      expect(hosted.every((h) => h.replica.nodeId === node.id)).toBe(true);
      const shardOrder = hosted.map((h) => config.shards.indexOf(h.shard));
      expect(shardOrder).toEqual([...shardOrder].sort((a, b) => a - b));
    }
    expect(placement.replicasOnNode("node09")).toEqual([]);
  });

  it("gives the nodes of a shard's replicas in replica order", () => {
    const shard = config.shards[1]!;
    expect(placement.nodesOfShard(shard).map((n) => n.id)).toEqual(shard.replicas.map((r) => r.nodeId));
  });
});
