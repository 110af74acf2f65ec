// Generates a cluster config: `shards` equal inclusive ranges of the shard key space (sizes
// differ by at most one key), and replicas dealt round-robin over the nodes. Replica slot
// k = shard * replicationFactor + r goes to node k mod nodes: a shard's replicas are
// replicationFactor consecutive nodes (distinct because replicationFactor <= nodes) and the
// per-node replica counts differ by at most one. Replica ids are k + 1 (Raft reserves 0).

import { LedgerError } from "../base/errors.js";
import type { ClusterConfig, NodeConfig, ShardConfig } from "./config-types.js";
import { parseClusterConfig } from "./config-load.js";
import { addressProblem } from "./address.js";
import { shardKeyMax } from "./shard-key.js";
import { generatedNodesMax, generatedShardsMax } from "./limits.js";
export { generatedNodesMax, generatedShardsMax } from "./limits.js";

const portMax = 65_535;

export interface GenerateClusterConfigOptions {
  nodes: number;
  shards: number;
  replicationFactor: number;
  /** Node i (from 0) listens on basePort + i. */
  basePort: number;
  /** Defaults to 127.0.0.1: servers listen on loopback unless told otherwise. */
  host?: string;
  /** Defaults to 1. */
  version?: number;
}

function invalid(message: string): never {
  throw new LedgerError("INVALID_ARGUMENT", message);
}

function checkOptions(o: GenerateClusterConfigOptions, host: string): void {
  const inRange = (name: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) invalid(`${name} must be an integer in [${min}, ${max}], got ${v}`);
  };
  inRange("nodes", o.nodes, 1, generatedNodesMax);
  inRange("shards", o.shards, 1, generatedShardsMax);
  inRange("replication factor", o.replicationFactor, 1, generatedNodesMax);
  if (o.replicationFactor > o.nodes) {
    invalid(
      `replication factor ${o.replicationFactor} exceeds the number of nodes ${o.nodes} (a shard's replicas must be on distinct nodes)`,
    );
  }
  inRange("base port", o.basePort, 1, portMax);
  if (o.basePort + o.nodes - 1 > portMax) {
    invalid(`base port ${o.basePort} + ${o.nodes} nodes goes past port ${portMax}`);
  }
  const problem = addressProblem(`${host}:${o.basePort}`);
  if (problem !== undefined) invalid(problem);
}

function padded(prefix: string, i: number, count: number): string {
  return prefix + String(i).padStart(Math.max(2, String(count).length), "0");
}

/** The inclusive lower bound of shard i of n: floor(i * 2^32 / n), computed exactly. */
function lowerBoundOf(i: number, n: number): number {
  return Number((BigInt(i) * (BigInt(shardKeyMax) + 1n)) / BigInt(n));
}

export function generateClusterConfig(options: GenerateClusterConfigOptions): ClusterConfig {
  const host = options.host ?? "127.0.0.1";
  checkOptions(options, host);
  const { nodes: nodeCount, shards: shardCount, replicationFactor } = options;
  const nodes: NodeConfig[] = Array.from({ length: nodeCount }, (_, i) => ({
    id: padded("node", i + 1, nodeCount),
    address: `${host}:${options.basePort + i}`,
  }));
  const shards: ShardConfig[] = Array.from({ length: shardCount }, (_, s) => ({
    id: padded("shard-", s, shardCount - 1),
    lowerBound: lowerBoundOf(s, shardCount),
    upperBound: lowerBoundOf(s + 1, shardCount) - 1,
    replicas: Array.from({ length: replicationFactor }, (_, r) => {
      const slot = s * replicationFactor + r;
      return { id: slot + 1, nodeId: padded("node", (slot % nodeCount) + 1, nodeCount) };
    }),
  }));
  // Validate what we made with the same rules every loader applies.
  return parseClusterConfig({ version: options.version ?? 1, nodes, shards }, "generated cluster config");
}
