// Limits of cluster configs and the shard map.

/** Shard keys remembered for recently used accounts: SHA-256 is about 1.6 us and a command
 * builds several keys of one account. Bounded so memory stays flat; a full cache is dropped
 * wholesale (cheap, and hot accounts come back at once). */
export const shardKeyCacheEntriesMax = 16_384;
/** Generated cluster configs: far beyond what one machine runs, small enough to catch typos. */
export const generatedNodesMax = 256;
export const generatedShardsMax = 4096;
