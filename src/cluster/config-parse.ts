// Field-level validation of a cluster config: every field present, of the right type, in range,
// and nothing unknown (a misspelt field would otherwise be silently ignored). Cross-field rules
// (coverage, uniqueness, placement) live in config-check.ts.

import type { ClusterConfig, NodeConfig, ReplicaConfig, ShardConfig } from "./config-types.js";
import { addressProblem } from "./address.js";
import { shardKeyMax } from "./shard-key.js";

export type Fail = (problem: string) => never;

const idPattern = /^[A-Za-z0-9_-]{1,64}$/;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/** `path` is "" for the top level. */
function object(value: unknown, path: string, keys: readonly string[], fail: Fail): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(`${path || "the top level"} must be an object, got ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  const at = (key: string) => (path ? `${path}.${key}` : key);
  const unknown = Object.keys(record).find((k) => !keys.includes(k));
  if (unknown !== undefined) fail(`${at(unknown)} is not a known field (expected ${keys.join(", ")})`);
  const missing = keys.find((k) => !Object.hasOwn(record, k));
  if (missing !== undefined) fail(`${at(missing)} is missing`);
  return record;
}

function array(value: unknown, path: string, fail: Fail): unknown[] {
  if (!Array.isArray(value)) return fail(`${path} must be an array, got ${describe(value)}`);
  if (value.length === 0) fail(`${path} must not be empty`);
  return value;
}

function integer(value: unknown, path: string, min: number, max: number, fail: Fail): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    return fail(`${path} must be an integer in [${min}, ${max}], got ${describe(value)}`);
  }
  return value;
}

function id(value: unknown, path: string, fail: Fail): string {
  if (typeof value !== "string") return fail(`${path} must be a string, got ${describe(value)}`);
  if (!idPattern.test(value)) {
    fail(`${path} ${JSON.stringify(value)} is not a valid id (1 to 64 letters, digits, "-" or "_")`);
  }
  return value;
}

function address(value: unknown, path: string, fail: Fail): string {
  if (typeof value !== "string") return fail(`${path} must be a string, got ${describe(value)}`);
  const problem = addressProblem(value);
  if (problem !== undefined) fail(`${path}: ${problem}`);
  return value;
}

function node(value: unknown, path: string, fail: Fail): NodeConfig {
  const r = object(value, path, ["id", "address"], fail);
  return { id: id(r.id, `${path}.id`, fail), address: address(r.address, `${path}.address`, fail) };
}

function replica(value: unknown, path: string, fail: Fail): ReplicaConfig {
  const r = object(value, path, ["id", "nodeId"], fail);
  // Raft reserves replica id 0 for "none".
  return {
    id: integer(r.id, `${path}.id`, 1, Number.MAX_SAFE_INTEGER, fail),
    nodeId: id(r.nodeId, `${path}.nodeId`, fail),
  };
}

function shard(value: unknown, path: string, fail: Fail): ShardConfig {
  const r = object(value, path, ["id", "lowerBound", "upperBound", "replicas"], fail);
  return {
    id: id(r.id, `${path}.id`, fail),
    lowerBound: integer(r.lowerBound, `${path}.lowerBound`, 0, shardKeyMax, fail),
    upperBound: integer(r.upperBound, `${path}.upperBound`, 0, shardKeyMax, fail),
    replicas: array(r.replicas, `${path}.replicas`, fail).map((x, i) => replica(x, `${path}.replicas[${i}]`, fail)),
  };
}

/** Checks the shape of every field and returns a fresh, typed copy (no aliasing of the input). */
export function parseConfigShape(json: unknown, fail: Fail): ClusterConfig {
  const r = object(json, "", ["version", "nodes", "shards"], fail);
  return {
    version: integer(r.version, "version", 1, Number.MAX_SAFE_INTEGER, fail),
    nodes: array(r.nodes, "nodes", fail).map((x, i) => node(x, `nodes[${i}]`, fail)),
    shards: array(r.shards, "shards", fail).map((x, i) => shard(x, `shards[${i}]`, fail)),
  };
}
