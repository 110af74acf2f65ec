// The generator's promises, checked over many cluster shapes: the shards tile the key space in
// equal ranges, a shard's replicas sit on distinct nodes, nodes carry equal shares, ids are
// unique, and the result passes the same validation as a loaded file.

import { describe, expect, it } from "vitest";
import {
  formatClusterConfig,
  generateClusterConfig,
  parseClusterConfig,
  shardKeyMax,
} from "../../src/cluster/config.js";

const shapes: { nodes: number; shards: number; replicationFactor: number }[] = [];
for (const nodes of [1, 2, 3, 4, 5, 7]) {
  for (const shards of [1, 2, 3, 5, 16, 100]) {
    for (const replicationFactor of new Set([1, Math.min(2, nodes), Math.min(3, nodes), nodes])) {
      shapes.push({ nodes, shards, replicationFactor });
    }
  }
}

describe("generateClusterConfig", () => {
  it.each(shapes)(
    "$nodes nodes, $shards shards, $replicationFactor replicas: tiles the key space, balances replicas",
    (shape) => {
      const config = generateClusterConfig({ ...shape, basePort: 7000 });

      // Round trip through the file format and the loader's validation.
      expect(parseClusterConfig(JSON.parse(formatClusterConfig(config)))).toEqual(config);

      // Exact coverage with ranges whose sizes differ by at most one key.
      expect(config.shards).toHaveLength(shape.shards);
      expect(config.shards[0]!.lowerBound).toBe(0);
      expect(config.shards.at(-1)!.upperBound).toBe(shardKeyMax);
      const sizes = config.shards.map((s) => s.upperBound - s.lowerBound + 1);
      for (const [i, s] of config.shards.slice(1).entries())
        expect(s.lowerBound).toBe(config.shards[i]!.upperBound + 1);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(shardKeyMax + 1);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);

      // Replicas: the asked number per shard, on distinct nodes, equal shares per node.
      const perNode = new Map(config.nodes.map((n) => [n.id, 0]));
      for (const shard of config.shards) {
        expect(shard.replicas).toHaveLength(shape.replicationFactor);
        expect(new Set(shard.replicas.map((r) => r.nodeId)).size).toBe(shape.replicationFactor);
        for (const r of shard.replicas) perNode.set(r.nodeId, perNode.get(r.nodeId)! + 1);
      }
      const counts = [...perNode.values()];
      expect(counts.reduce((a, b) => a + b, 0)).toBe(shape.shards * shape.replicationFactor);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);

      // Replica ids: unique across the cluster and non-zero (Raft's "none").
      const replicaIds = config.shards.flatMap((s) => s.replicas.map((r) => r.id));
      expect(new Set(replicaIds).size).toBe(replicaIds.length);
      expect(Math.min(...replicaIds)).toBeGreaterThan(0);

      // Nodes listen on consecutive ports from the base port.
      expect(config.nodes.map((n) => n.address)).toEqual(config.nodes.map((_, i) => `127.0.0.1:${7000 + i}`));
    },
  );

  it("names nodes node01.. and shards shard-00.., widening the number when needed", () => {
    const small = generateClusterConfig({ nodes: 3, shards: 16, replicationFactor: 3, basePort: 7000 });
    expect(small.nodes.map((n) => n.id)).toEqual(["node01", "node02", "node03"]);
    expect(small.shards.map((s) => s.id).slice(0, 2)).toEqual(["shard-00", "shard-01"]);
    expect(small.shards.at(-1)!.id).toBe("shard-15");
    const large = generateClusterConfig({ nodes: 100, shards: 1000, replicationFactor: 1, basePort: 7000 });
    expect([large.nodes[0]!.id, large.nodes[99]!.id]).toEqual(["node001", "node100"]);
    expect([large.shards[0]!.id, large.shards[999]!.id]).toEqual(["shard-000", "shard-999"]);
  });

  it("uses the given host and version", () => {
    const config = generateClusterConfig({
      nodes: 2,
      shards: 2,
      replicationFactor: 2,
      basePort: 9000,
      host: "localhost",
      version: 4,
    });
    expect(config.version).toBe(4);
    expect(config.nodes.map((n) => n.address)).toEqual(["localhost:9000", "localhost:9001"]);
  });

  it.each([
    [
      { nodes: 2, shards: 4, replicationFactor: 3, basePort: 7000 },
      "replication factor 3 exceeds the number of nodes 2 (a shard's replicas must be on distinct nodes)",
    ],
    [{ nodes: 0, shards: 4, replicationFactor: 1, basePort: 7000 }, "nodes must be an integer in [1, 256], got 0"],
    [{ nodes: 3, shards: 0, replicationFactor: 1, basePort: 7000 }, "shards must be an integer in [1, 4096], got 0"],
    [
      { nodes: 3, shards: 2.5, replicationFactor: 1, basePort: 7000 },
      "shards must be an integer in [1, 4096], got 2.5",
    ],
    [
      { nodes: 3, shards: 4, replicationFactor: 0, basePort: 7000 },
      "replication factor must be an integer in [1, 256], got 0",
    ],
    [{ nodes: 3, shards: 4, replicationFactor: 3, basePort: 65_534 }, "base port 65534 + 3 nodes goes past port 65535"],
    [
      { nodes: 3, shards: 4, replicationFactor: 3, basePort: 7000, host: "bad host" },
      'address "bad host:7000": host "bad host" is not a valid hostname or IP address (bad label "bad host")',
    ],
  ])("rejects %o", (options, message) => {
    expect(() => generateClusterConfig(options)).toThrow(message);
  });
});
