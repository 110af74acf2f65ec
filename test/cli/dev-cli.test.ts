// The dev CLI as a user runs it (a real process): usage errors exit 2 with the usage on stderr,
// an unreachable server exits 1 with one line, gen-cluster-config writes a valid file, rebalance
// --dry-run prints a plan.

import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatClusterConfig, generateClusterConfig, loadClusterConfig } from "../../src/cluster/config.js";
import { startTsProcess, type TestProcess } from "../support/processes.js";
import { findFreePort } from "../support/free-port.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { autoCleanup } from "../support/cleanup.js";

autoCleanup();

async function runDev(
  args: string[],
): Promise<{ code: number | null; stdout: string[]; stderr: string[]; proc: TestProcess }> {
  const proc = startTsProcess("cmd/dev.ts", args, { name: `dev ${args.join(" ")}` });
  const exit = await proc.waitForExit(30_000);
  return { code: exit.code, stdout: proc.stdoutLines, stderr: proc.stderrLines, proc };
}

describe("dev CLI usage errors exit 2 with the problem and the usage on stderr", () => {
  it.each([
    [["seed-accounts", "--bogus"], "error: unknown option '--bogus'", "seed-accounts"],
    [
      ["seed-accounts", "--count", "1.5"],
      "error: option '--count <n>' argument '1.5' is invalid. expected an integer from 1 to 1000000",
      "seed-accounts",
    ],
    [
      ["seed-accounts", "--count", "ten"],
      "error: option '--count <n>' argument 'ten' is invalid. expected an integer from 1 to 1000000",
      "seed-accounts",
    ],
    [
      ["seed-accounts", "--count", "0"],
      "error: option '--count <n>' argument '0' is invalid. expected an integer from 1 to 1000000",
      "seed-accounts",
    ],
    [
      ["seed-accounts", "--count", "1000001"],
      "error: option '--count <n>' argument '1000001' is invalid. expected an integer from 1 to 1000000",
      "seed-accounts",
    ],
    [
      ["seed-accounts", "--concurrency", "0"],
      "error: option '--concurrency <n>' argument '0' is invalid. expected an integer from 1 to 256",
      "seed-accounts",
    ],
    [
      ["seed-accounts", "--gateway", "localhost"],
      `error: option '--gateway <host:port>' argument 'localhost' is invalid. address "localhost" has no port: expected host:port`,
      "seed-accounts",
    ],
    [
      ["scenario-1", "--account-id", "XYZ"],
      "error: option '--account-id <id>' argument 'XYZ' is invalid. account id must be exactly 16 lowercase hex characters",
      "scenario-1",
    ],
    [["scenario-1"], "error: required option '--account-id <id>' not specified", "scenario-1"],
    [
      ["gen-cluster-config", "--nodes", "2", "--replication-factor", "3", "--out", "/nonexistent/never-written.json"],
      "error: replication factor 3 exceeds the number of nodes 2 (a shard's replicas must be on distinct nodes)",
      "gen-cluster-config",
    ],
    [
      ["gen-cluster-config", "--base-port", "65535", "--out", "/nonexistent/never-written.json"],
      "error: base port 65535 + 3 nodes goes past port 65535",
      "gen-cluster-config",
    ],
    [["frobnicate"], "error: unknown command 'frobnicate'", ""],
  ])("%j", async (args, message, command) => {
    const { code, stdout, stderr } = await runDev(args);
    expect(code).toBe(2);
    expect(stderr[0]).toBe(message);
    expect(stderr).toContain(`Usage: dev${command ? ` ${command}` : ""} [options]${command ? "" : " [command]"}`);
    expect(stdout).toEqual([]);
  });

  it("--help prints the usage on stdout and exits 0", async () => {
    const { code, stdout } = await runDev(["--help"]);
    expect(code).toBe(0);
    expect(stdout[0]).toBe("Usage: dev [options] [command]");
    expect(stdout.join("\n")).toMatch(/seed-accounts[\s\S]*scenario-1[\s\S]*gen-cluster-config/);
  });
});

describe("dev CLI against an unreachable ledger (a closed port)", () => {
  it.each([
    [["seed-accounts", "--count", "3"], []],
    [["scenario-1", "--account-id", "0123456789abcdef"], ["step 1: get account 0123456789abcdef"]],
  ])("%j exits 1 with one error line naming the address", async (args, stdoutLines) => {
    const address = `127.0.0.1:${await findFreePort()}`;
    const { code, stdout, stderr } = await runDev([...args, "--gateway", address, "--insecure"]);
    expect(code).toBe(1);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(new RegExp(`^error: UNAVAILABLE: cannot reach ledger at ${address} \\(.+\\)$`));
    expect(stdout).toEqual(stdoutLines);
  });
});

describe("dev gen-cluster-config", () => {
  it("writes a config that loads and equals the generator's output for the same flags", async () => {
    const dir = await makeTempDir();
    const out = join(dir, "cluster.json");
    const { code, stdout } = await runDev([
      "gen-cluster-config",
      "--nodes",
      "5",
      "--shards",
      "8",
      "--replication-factor",
      "3",
      "--base-port",
      "9100",
      "--out",
      out,
    ]);
    expect(code).toBe(0);
    expect(stdout).toEqual([`wrote ${out}: 5 nodes, 8 shards, 3 replicas each`]);
    const config = await loadClusterConfig(out);
    expect(config).toEqual(
      generateClusterConfig({ nodes: 5, shards: 8, replicationFactor: 3, basePort: 9100, host: "127.0.0.1" }),
    );
    // Written under a temporary name and renamed: nothing else is left behind.
    expect(await readdir(dir)).toEqual(["cluster.json"]);
  });

  it("reports a file it cannot write with one line and exit 1", async () => {
    const out = join(await makeTempDir(), "missing-dir", "cluster.json");
    const { code, stderr } = await runDev(["gen-cluster-config", "--out", out]);
    expect(code).toBe(1);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(new RegExp(`^error: cannot write ${out}: ENOENT: no such file or directory`));
  });
});

describe("dev rebalance", () => {
  /** A 5-node config whose replicas all sit on the first three nodes (two nodes just added). */
  async function grownConfig(): Promise<string> {
    const dir = await makeTempDir();
    const config = generateClusterConfig({ nodes: 5, shards: 16, replicationFactor: 3, basePort: 9200 });
    for (const s of config.shards) for (const [j, r] of s.replicas.entries()) r.nodeId = `node0${j + 1}`;
    const path = join(dir, "cluster.json");
    await writeFile(path, formatClusterConfig(config));
    return path;
  }

  it("--dry-run prints the moves that spread the replicas over new nodes, and the counts before and after", async () => {
    const { code, stdout } = await runDev(["rebalance", "--dry-run", "--cluster-config", await grownConfig()]);
    expect(code).toBe(0);
    expect(stdout[0]).toBe("replicas per node now:   node01=16 node02=16 node03=16 node04=0 node05=0");
    expect(stdout[1]).toBe("replicas per node after: node01=10 node02=10 node03=10 node04=9 node05=9");
    const moves = stdout.filter((l) => l.startsWith("move "));
    expect(moves).toHaveLength(18);
    expect(moves[0]).toMatch(/^move 1\/18: shard-\d+ replica node0[123] -> node0[45]$/);
  });

  it("refuses to run without --dry-run (exit 2), and names an unknown node to remove (exit 1)", async () => {
    const path = await grownConfig();
    const without = await runDev(["rebalance", "--cluster-config", path]);
    expect(without.code).toBe(2);
    expect(without.stderr[0]).toMatch(/^error: --dry-run is required/);
    expect(without.stdout).toEqual([]);
    const unknown = await runDev(["rebalance", "--dry-run", "--remove-node", "node09", "--cluster-config", path]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toEqual(['error: rebalance: node "node09" is not in the cluster map']);
  });
});
