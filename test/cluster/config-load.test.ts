// Loading from a file: the shipped cluster_config.json, and file-level failures named with the
// file's path.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateClusterConfig, loadClusterConfig } from "../../src/cluster/config.js";
import { repoRoot } from "../support/processes.js";
import { autoCleanup } from "../support/cleanup.js";
import { makeTempDir } from "../support/temp-dirs.js";

autoCleanup();

describe("loadClusterConfig", () => {
  it("loads the top-level cluster_config.json: the generator's defaults (3 nodes, 16 shards, 3 replicas each)", async () => {
    const config = await loadClusterConfig(join(repoRoot, "cluster_config.json"));
    expect(config).toEqual(
      generateClusterConfig({ nodes: 3, shards: 16, replicationFactor: 3, basePort: 7000, host: "127.0.0.1" }),
    );
    expect(config.nodes.map((n) => n.address)).toEqual(["127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"]);
    expect(config.shards).toHaveLength(16);
    expect(config.shards.every((s) => s.replicas.length === 3)).toBe(true);
  });

  it("names the file and the JSON syntax error", async () => {
    const file = join(await makeTempDir(), "bad.json");
    await writeFile(file, '{"version": 1,');
    await expect(loadClusterConfig(file)).rejects.toThrow(new RegExp(`^cluster config ${file}: not valid JSON: `));
  });

  it("names the file that cannot be read", async () => {
    const file = join(await makeTempDir(), "missing.json");
    await expect(loadClusterConfig(file)).rejects.toThrow(
      new RegExp(`^cluster config ${file}: cannot read the file \\(ENOENT`),
    );
  });

  it("names the file and the field of a validation failure", async () => {
    const file = join(await makeTempDir(), "config.json");
    await writeFile(file, JSON.stringify({ version: 1, nodes: [], shards: [] }));
    await expect(loadClusterConfig(file)).rejects.toThrow(`cluster config ${file}: nodes must not be empty`);
  });
});
