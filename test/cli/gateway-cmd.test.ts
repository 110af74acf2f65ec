// cmd/gateway.ts as a real process: flag and config errors at start-up, and the public API served
// end to end through the gateway to (fake, in-process) nodes.

import { afterEach, describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { create, fromBinary } from "@bufbuild/protobuf";
import { LedgerClient } from "../../src/client/ledger-client.js";
import { formatClusterConfig, parseClusterConfig } from "../../src/cluster/config.js";
import { QueryResultSchema, QuerySchema } from "../../src/gen/ledger/core/v1/core_pb.js";
import { ReadConsistency } from "../../src/gen/ledger/node/v1/node_pb.js";
import { formatAccountId } from "../../src/ledger/ids.js";
import { startTsProcess } from "../support/processes.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { autoCleanup } from "../support/cleanup.js";
import { answerQuery, fakeClusterConfig, startFakeNodes, stopNodes, type FakeNode } from "../gateway/fake-nodes.js";

autoCleanup();

let nodes: FakeNode[] = [];
afterEach(() => {
  stopNodes(nodes);
  nodes = [];
});

async function writeConfig(text: string): Promise<string> {
  const path = join(await makeTempDir(), "cluster_config.json");
  await writeFile(path, text);
  return path;
}

/** A loopback port held by this test process until closed. */
function holdPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => resolve(server));
  });
}

describe("cmd/gateway.ts", () => {
  it("exits 2 with the usage on a bad --port", async () => {
    const proc = startTsProcess("cmd/gateway.ts", ["--port", "70000", "--cluster-config", "cluster_config.json"]);
    expect(await proc.waitForExit()).toEqual({ code: 2, signal: null });
    expect(proc.stderr).toContain("--port");
    expect(proc.stderr).toContain("Usage:");
  });

  it("exits 1 with one line naming the problem when the cluster config is invalid", async () => {
    const path = await writeConfig(JSON.stringify({ version: 1, nodes: [], shards: [] }));
    const proc = startTsProcess("cmd/gateway.ts", ["--port", "0", "--cluster-config", path]);
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(proc.stderrLines.filter((l) => l !== "")).toEqual([
      `gateway: cluster config ${path}: nodes must not be empty`,
    ]);
  });

  it("exits 1 with one line when the cluster config file does not exist", async () => {
    const path = join(await makeTempDir(), "missing.json");
    const proc = startTsProcess("cmd/gateway.ts", ["--port", "0", "--cluster-config", path]);
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(proc.stderrLines.filter((l) => l !== "")).toEqual([
      expect.stringMatching(new RegExp(`^gateway: cluster config ${path}: cannot read the file`)),
    ]);
  });

  it("exits 1 with one line when the port is in use", async () => {
    const holder = await holdPort();
    try {
      const port = (holder.address() as { port: number }).port;
      nodes = await startFakeNodes(1);
      const path = await writeConfig(formatClusterConfig(fakeClusterConfig(nodes, 1)));
      const proc = startTsProcess("cmd/gateway.ts", ["--port", String(port), "--cluster-config", path, "--insecure"]);
      expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
      expect(proc.stderrLines.filter((l) => l !== "")).toEqual([
        expect.stringMatching(/^gateway: cannot listen on 127\.0\.0\.1:\d+: .*address already in use/),
      ]);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it("serves GetAccount end to end through LedgerClient to the shard's leader node, then exits 0 on SIGTERM", async () => {
    nodes = await startFakeNodes(3);
    const config = fakeClusterConfig(nodes, 2);
    const path = await writeConfig(formatClusterConfig(parseClusterConfig(config)));
    const accountId = 0x0123456789abcdefn;
    for (const n of nodes) {
      n.onRead = async (req) => {
        const query = fromBinary(QuerySchema, req.query);
        const id = query.kind.case === "getAccount" ? query.kind.value.accountId : 0n;
        return answerQuery(
          create(QueryResultSchema, {
            kind: { case: "account", value: { id, availableBalance: 90n, settledBalance: 100n } },
          }),
        );
      };
    }
    const gateway = startTsProcess("cmd/gateway.ts", ["--port", "0", "--cluster-config", path, "--insecure"], {
      name: "gateway",
    });
    const listening = await gateway.waitForJson((entry) => entry.msg === "listening");
    expect(listening.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const client = LedgerClient.connect(listening.address as string, { tls: "insecure" });
    try {
      const account = await client.getAccount(formatAccountId(accountId));
      expect([account.id, account.availableBalance, account.settledBalance]).toEqual([
        formatAccountId(accountId),
        90n,
        100n,
      ]);
    } finally {
      client.close();
    }
    const reads = nodes.flatMap((n) =>
      n.reads.map((r) => ({ node: n.id, shardId: r.shardId, consistency: r.consistency })),
    );
    expect(reads).toHaveLength(1);
    expect(reads[0]!.consistency).toBe(ReadConsistency.LINEARIZABLE);
    // The read went to its shard's preferred leader: shard i is led by nodes[i] in this config.
    const shardIndex = config.shards.findIndex((s) => s.id === reads[0]!.shardId);
    expect(reads[0]!.node).toBe(nodes[shardIndex]!.id);
    expect(await gateway.stop()).toEqual({ code: 0, signal: null });
  });
});
