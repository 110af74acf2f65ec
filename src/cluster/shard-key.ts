// The shard key of an account (DESIGN.md §4): the first 4 bytes, big-endian, of SHA-256 over
// the 8-byte big-endian account id. Hashing spreads sequential or clustered ids evenly over
// the 32-bit key space that shards divide into ranges.

import { createHash } from "node:crypto";
import { encodeUint64BE } from "../ledger/ids.js";

export const shardKeyBytes = 4;
export const shardKeyMax = 0xffff_ffff;

/** Unsigned 32-bit shard key of `accountId`. */
export function shardKey(accountId: bigint): number {
  const digest = createHash("sha256").update(encodeUint64BE(accountId)).digest();
  return digest.readUInt32BE(0);
}
