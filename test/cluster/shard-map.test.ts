// Shard lookup: exact at every range boundary, and equal to a linear scan for many keys.

import { describe, expect, it } from "vitest";
import {
  generateClusterConfig,
  parseClusterConfig,
  shardKeyMax,
  type ClusterConfig,
} from "../../src/cluster/config.js";
import { shardForAccount, shardForKey } from "../../src/cluster/shard-map.js";
import { shardKey } from "../../src/cluster/shard-key.js";
import { AssertionError } from "../../src/base/assert.js";
import { seededPrng } from "../../src/base/prng.js";

const configs: [string, ClusterConfig][] = [
  ["1 shard", generateClusterConfig({ nodes: 1, shards: 1, replicationFactor: 1, basePort: 7000 })],
  ["16 shards", generateClusterConfig({ nodes: 3, shards: 16, replicationFactor: 3, basePort: 7000 })],
  ["7 shards", generateClusterConfig({ nodes: 3, shards: 7, replicationFactor: 2, basePort: 7000 })],
  [
    "uneven hand-written ranges",
    parseClusterConfig({
      version: 1,
      nodes: [{ id: "n1", address: "127.0.0.1:7000" }],
      shards: [
        { id: "a", lowerBound: 0, upperBound: 0, replicas: [{ id: 1, nodeId: "n1" }] },
        { id: "b", lowerBound: 1, upperBound: 1, replicas: [{ id: 2, nodeId: "n1" }] },
        { id: "c", lowerBound: 2, upperBound: 4294967294, replicas: [{ id: 3, nodeId: "n1" }] },
        { id: "d", lowerBound: 4294967295, upperBound: 4294967295, replicas: [{ id: 4, nodeId: "n1" }] },
      ],
    }),
  ],
];

describe.each(configs)("shardForKey over %s", (_name, config) => {
  it("maps both bounds of every shard to that shard, and the keys just outside to its neighbours", () => {
    config.shards.forEach((shard, i) => {
      expect(shardForKey(config, shard.lowerBound)).toBe(shard);
      expect(shardForKey(config, shard.upperBound)).toBe(shard);
      if (i > 0) expect(shardForKey(config, shard.lowerBound - 1)).toBe(config.shards[i - 1]);
      if (i < config.shards.length - 1) expect(shardForKey(config, shard.upperBound + 1)).toBe(config.shards[i + 1]);
    });
    expect(shardForKey(config, 0)).toBe(config.shards[0]);
    expect(shardForKey(config, shardKeyMax)).toBe(config.shards.at(-1));
  });

  it("agrees with a linear scan on 2000 seeded random keys", () => {
    const prng = seededPrng(1);
    for (let n = 0; n < 2000; n++) {
      const key = prng.nextU32();
      const expected = config.shards.find((s) => s.lowerBound <= key && key <= s.upperBound);
      expect(shardForKey(config, key)).toBe(expected);
    }
  });
});

describe("shardForKey", () => {
  const config = configs[1]![1];
  it.each([-1, shardKeyMax + 1, 1.5, Number.NaN])("asserts on key %s outside the key space", (key) => {
    expect(() => shardForKey(config, key)).toThrow(AssertionError);
  });
});

describe("shardForAccount", () => {
  const config = configs[1]![1];
  it("routes an account by its SHA-256 shard key", () => {
    for (const accountId of [0n, 1n, 0x9fff3bf7d1f9561dn, 0xffff_ffff_ffff_ffffn]) {
      const shard = shardForAccount(config, accountId);
      const key = shardKey(accountId);
      expect(shard.lowerBound <= key && key <= shard.upperBound).toBe(true);
    }
  });
});
