// Cross-field rules of a cluster config (DESIGN.md §8): unique ids and addresses, shards that
// tile the key space in ascending order, replicas on distinct known nodes. Runs after
// config-parse.ts, so every field already has its type and range.

import type { ClusterConfig } from "./config-types.js";
import type { Fail } from "./config-parse.js";
import { shardKeyMax } from "./shard-key.js";

/** Fails on the second occurrence of a key, naming where the first one was. */
function uniqueness(what: string, fail: Fail) {
  const seen = new Map<string, string>();
  return (key: string, shown: string, path: string) => {
    const first = seen.get(key);
    if (first !== undefined) fail(`${path} ${shown} duplicates ${first} (${what} must be unique)`);
    seen.set(key, path);
  };
}

function checkNodes(config: ClusterConfig, fail: Fail): void {
  const ids = uniqueness("node ids", fail);
  const addresses = uniqueness("node addresses", fail);
  config.nodes.forEach((node, i) => {
    ids(node.id, JSON.stringify(node.id), `nodes[${i}].id`);
    // Host names are case-insensitive.
    addresses(node.address.toLowerCase(), node.address, `nodes[${i}].address`);
  });
}

function checkCoverage(config: ClusterConfig, fail: Fail): void {
  config.shards.forEach((shard, i) => {
    const at = `shards[${i}]`;
    if (shard.lowerBound > shard.upperBound) {
      fail(`${at}.lowerBound ${shard.lowerBound} is greater than ${at}.upperBound ${shard.upperBound}`);
    }
    const prev = config.shards[i - 1];
    if (prev === undefined) {
      if (shard.lowerBound !== 0) fail(`${at}.lowerBound is ${shard.lowerBound} but the first shard must start at 0`);
      return;
    }
    const expected = prev.upperBound + 1;
    if (shard.lowerBound < expected) {
      fail(`${at}.lowerBound ${shard.lowerBound} overlaps shards[${i - 1}] (ends at ${prev.upperBound})`);
    }
    if (shard.lowerBound > expected) {
      fail(`${at}.lowerBound ${shard.lowerBound} leaves a gap after shards[${i - 1}] (ends at ${prev.upperBound})`);
    }
  });
  const last = config.shards.length - 1;
  const lastUpper = config.shards[last]?.upperBound;
  if (lastUpper !== shardKeyMax) {
    fail(`shards[${last}].upperBound is ${lastUpper} but the last shard must end at ${shardKeyMax}`);
  }
}

function checkShardsAndReplicas(config: ClusterConfig, fail: Fail): void {
  const nodeIds = new Set(config.nodes.map((n) => n.id));
  const shardIds = uniqueness("shard ids", fail);
  const replicaIds = uniqueness("replica ids", fail);
  config.shards.forEach((shard, i) => {
    shardIds(shard.id, JSON.stringify(shard.id), `shards[${i}].id`);
    const nodesOfShard = new Map<string, number>();
    shard.replicas.forEach((replica, j) => {
      const at = `shards[${i}].replicas[${j}]`;
      replicaIds(String(replica.id), String(replica.id), `${at}.id`);
      if (!nodeIds.has(replica.nodeId))
        fail(`${at}.nodeId ${JSON.stringify(replica.nodeId)} is not a node of the config`);
      const first = nodesOfShard.get(replica.nodeId);
      if (first !== undefined) {
        fail(
          `${at}.nodeId ${JSON.stringify(replica.nodeId)} already hosts shards[${i}].replicas[${first}] (a shard's replicas must be on distinct nodes)`,
        );
      }
      nodesOfShard.set(replica.nodeId, j);
    });
  });
}

export function checkConfigConsistency(config: ClusterConfig, fail: Fail): void {
  checkNodes(config, fail);
  checkShardsAndReplicas(config, fail);
  checkCoverage(config, fail);
}
