import { describe, expect, it } from "vitest";
import { checkConvergence } from "./convergence.js";

const replica = (node: string, appliedIndex: bigint, stateHash: string) => ({ node, appliedIndex, stateHash });

describe("convergence checker", () => {
  it("accepts shards whose replicas all have the same applied index and state hash", () => {
    const replicas = new Map([
      ["s1", [replica("node01", 42n, "ab"), replica("node02", 42n, "ab"), replica("node03", 42n, "ab")]],
      ["s2", [replica("node01", 7n, "cd"), replica("node02", 7n, "cd"), replica("node03", 7n, "cd")]],
    ]);
    expect(checkConvergence(replicas, { replicasPerShard: 3 })).toEqual({
      verdict: "ok",
      divergent: [],
      shardsChecked: 2,
    });
  });

  it("reports exactly the shards whose replicas differ in applied index or state hash", () => {
    const replicas = new Map([
      ["s1", [replica("node01", 42n, "ab"), replica("node02", 41n, "ab"), replica("node03", 42n, "ab")]],
      ["s2", [replica("node01", 7n, "cd"), replica("node02", 7n, "cd"), replica("node03", 7n, "cd")]],
      ["s3", [replica("node01", 9n, "ef"), replica("node02", 9n, "ee"), replica("node03", 9n, "ef")]],
    ]);
    const result = checkConvergence(replicas);
    expect(result.verdict).toBe("illegal");
    expect(result.divergent.map((d) => d.shardId)).toEqual(["s1", "s3"]);
    expect(result.divergent[0]!.message).toContain("node02@41");
  });

  it("reports a shard with fewer replicas reporting than it has", () => {
    const replicas = new Map([["s1", [replica("node01", 42n, "ab"), replica("node02", 42n, "ab")]]]);
    expect(checkConvergence(replicas, { replicasPerShard: 3 }).divergent.map((d) => d.shardId)).toEqual(["s1"]);
  });
});
