// Which shard owns a key or an account. A validated config lists shards in ascending key order
// covering the whole key space, so a binary search over the upper bounds always finds exactly
// one shard.

import { assert } from "../base/assert.js";
import type { ClusterConfig, ShardConfig } from "./config-types.js";
import { cachedShardKey, shardKeyMax } from "./shard-key.js";

/** The shard whose inclusive range holds `key` (an integer in 0..2^32-1). */
export function shardForKey(config: ClusterConfig, key: number): ShardConfig {
  assert(Number.isInteger(key) && key >= 0 && key <= shardKeyMax, `shard key out of range: ${key}`);
  const shards = config.shards;
  // Find the first shard whose upper bound is >= key.
  let lo = 0;
  let hi = shards.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (shards[mid]!.upperBound < key) lo = mid + 1;
    else hi = mid;
  }
  const shard = shards[lo];
  assert(
    shard !== undefined && shard.lowerBound <= key && key <= shard.upperBound,
    `no shard covers key ${key}: config not validated`,
  );
  return shard;
}

/** The shard that owns `accountId` (via its SHA-256 shard key, from the process's bounded
 * cache: the gateway routes every call and every batch item through here). */
export function shardForAccount(config: ClusterConfig, accountId: bigint): ShardConfig {
  return shardForKey(config, cachedShardKey(accountId));
}
