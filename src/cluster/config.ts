// The cluster config (DESIGN.md §8): which nodes exist and where, how the 32-bit shard key space
// is cut into shards, and which node hosts each shard's replicas. Every process of a cluster
// loads the same file; an invalid file stops the process with one line naming the problem.
//
// Identifier choices:
// - node ids are short strings ("node01"), shard ids too ("shard-00"): letters, digits, "-" and
//   "_", at most 64 characters, so they are safe inside storage key prefixes and log lines;
// - replica ids are positive integers, unique across the whole cluster (not only within their
//   shard): they are the Raft replica ids as they are (Raft reserves 0 for "none"), and a log
//   line naming a replica is unambiguous.
// Shards are listed in ascending key order; each owns the inclusive range
// [lowerBound, upperBound] and together they cover 0..2^32-1 with no gap and no overlap.

export {
  generateClusterConfig,
  generatedNodesMax,
  generatedShardsMax,
  type GenerateClusterConfigOptions,
} from "./config-generate.js";
export { parseClusterConfig, loadClusterConfig, configErrorPrefix } from "./config-load.js";
export { shardKeyMax } from "./shard-key.js";

export type { ClusterConfig, NodeConfig, NodeId, ReplicaConfig, ShardConfig, ShardId } from "./config-types.js";
import type { ClusterConfig } from "./config-types.js";

/** The config as the file holds it: two-space JSON with a trailing newline. */
export function formatClusterConfig(config: ClusterConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}
