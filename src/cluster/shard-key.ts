// The shard key of an account (DESIGN.md §4): the first 4 bytes, big-endian, of SHA-256 over
// the 8-byte big-endian account id. Hashing spreads sequential or clustered ids evenly over
// the 32-bit key space that shards divide into ranges.

import { createHash } from "node:crypto";
import { shardKeyCacheEntriesMax } from "./limits.js";
import { encodeUint64BE } from "../ledger/ids.js";

export const shardKeyBytes = 4;
export const shardKeyMax = 0xffff_ffff;

/** Unsigned 32-bit shard key of `accountId`. */
export function shardKey(accountId: bigint): number {
  const digest = createHash("sha256").update(encodeUint64BE(accountId)).digest();
  return digest.readUInt32BE(0);
}

// Shard keys of recently seen accounts, shared by every user in the process (storage keys, the
// replicas' shard checks): SHA-256 costs about 1.6 us a call and the same accounts recur in
// every command. Bounded: dropped wholesale when full, which costs one re-hash per account.
const cache = new Map<bigint, number>();

// The last account asked about: a command's keys (account, transaction, creation index) and
// its shard check ask about one account in a row, and comparing two bigints is far cheaper than
// a Map lookup that hashes one.
let lastAccountId: bigint | undefined;
let lastKey = 0;

/** shardKey(accountId), from a bounded cache of recent accounts. */
export function cachedShardKey(accountId: bigint): number {
  if (accountId === lastAccountId) return lastKey;
  let key = cache.get(accountId);
  if (key === undefined) {
    key = shardKey(accountId);
    if (cache.size >= shardKeyCacheEntriesMax) cache.clear();
    cache.set(accountId, key);
  }
  lastAccountId = accountId;
  lastKey = key;
  return key;
}
