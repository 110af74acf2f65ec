// cmd/node.ts as a real process: every start-up failure is one line naming the problem and a
// non-zero exit, and a started node serves its admin API and stops cleanly on SIGTERM.

import { describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { formatClusterConfig, generateClusterConfig } from "../../src/cluster/config.js";
import { NodeService, ReplicaStatesRequestSchema } from "../../src/gen/ledger/node/v1/node_pb.js";
import { createUnaryClient } from "../../src/transport/grpc-service.js";
import { autoCleanup } from "../support/cleanup.js";
import { findFreePort } from "../support/free-port.js";
import { startTsProcess } from "../support/processes.js";
import { makeTempDir } from "../support/temp-dirs.js";

autoCleanup();

/** A one-node config (RF 1) on a free port, written to a temp dir. */
async function oneNodeConfig(port?: number): Promise<{ path: string; dir: string; address: string }> {
  const dir = await makeTempDir();
  const config = generateClusterConfig({
    nodes: 1,
    shards: 2,
    replicationFactor: 1,
    basePort: port ?? (await findFreePort()),
  });
  const path = join(dir, "cluster_config.json");
  await writeFile(path, formatClusterConfig(config));
  return { path, dir, address: config.nodes[0]!.address };
}

function holdPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => resolve(server));
  });
}

const stderrLines = (proc: { stderrLines: string[] }) => proc.stderrLines.filter((l) => l !== "");

describe("cmd/node.ts", () => {
  it("exits 2 with the usage when --node-id is missing", async () => {
    const proc = startTsProcess("cmd/node.ts", ["--data-dir", "x"]);
    expect(await proc.waitForExit()).toEqual({ code: 2, signal: null });
    expect(proc.stderr).toContain("--node-id");
    expect(proc.stderr).toContain("Usage:");
  });

  it("exits 1 with one line naming the problem when the cluster config is invalid", async () => {
    const dir = await makeTempDir();
    const path = join(dir, "cluster_config.json");
    await writeFile(path, JSON.stringify({ version: 1, nodes: [], shards: [] }));
    const proc = startTsProcess("cmd/node.ts", [
      "--node-id",
      "node01",
      "--cluster-config",
      path,
      "--data-dir",
      join(dir, "data"),
    ]);
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(stderrLines(proc)).toEqual([`node: cluster config ${path}: nodes must not be empty`]);
  });

  it("exits 1 with one line when the node id is not in the config", async () => {
    const { path, dir } = await oneNodeConfig();
    const proc = startTsProcess("cmd/node.ts", [
      "--node-id",
      "node09",
      "--cluster-config",
      path,
      "--data-dir",
      join(dir, "data"),
    ]);
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(stderrLines(proc)).toEqual([`node: --node-id node09: not a node of ${path} (nodes: node01)`]);
  });

  it("exits 1 with one line when its port is in use", async () => {
    const holder = await holdPort();
    try {
      const { path, dir } = await oneNodeConfig((holder.address() as { port: number }).port);
      const proc = startTsProcess("cmd/node.ts", [
        "--node-id",
        "node01",
        "--cluster-config",
        path,
        "--data-dir",
        join(dir, "data"),
        "--insecure",
      ]);
      expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
      expect(stderrLines(proc)).toEqual([
        expect.stringMatching(/^node: cannot listen on 127\.0\.0\.1:\d+: .*address already in use/),
      ]);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it("exits 1 with one line when the data dir is a file", async () => {
    const { path, dir } = await oneNodeConfig();
    const file = join(dir, "not-a-dir");
    await writeFile(file, "x");
    const proc = startTsProcess("cmd/node.ts", [
      "--node-id",
      "node01",
      "--cluster-config",
      path,
      "--data-dir",
      file,
      "--insecure",
    ]);
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(stderrLines(proc)).toEqual([expect.stringMatching(new RegExp(`^node: cannot open data dir ${file}: `))]);
  });

  it("serves its replicas' states once listening, and exits 0 on SIGTERM", async () => {
    const { path, dir, address } = await oneNodeConfig();
    const proc = startTsProcess("cmd/node.ts", [
      "--node-id",
      "node01",
      "--cluster-config",
      path,
      "--data-dir",
      join(dir, "data"),
      "--tick-ms",
      "20",
      "--insecure",
    ]);
    const listening = await proc.waitForJson((e) => e.msg === "listening");
    expect(listening).toMatchObject({ nodeId: "node01", address, replicas: 2 });
    const admin = createUnaryClient(NodeService, address, { defaultDeadlineMs: 2_000 });
    try {
      const states = await admin.replicaStates(create(ReplicaStatesRequestSchema, {}));
      expect(states.nodeId).toBe("node01");
      expect(states.replicas.map((r) => r.shardId)).toEqual(["shard-00", "shard-01"]);
    } finally {
      admin.close();
    }
    expect(await proc.stop()).toEqual({ code: 0, signal: null });
  });
});
