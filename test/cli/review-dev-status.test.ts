// Review of issue 7's `dev status`: a deposed leader that is the only one claiming leadership, and
// how an unreachable node's reason reads next to the status page's.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { LedgerError } from "../../src/base/errors.js";
import { describe, expect, it } from "vitest";
import { formatClusterConfig, type NodeId } from "../../src/cluster/config.js";
import { NodeService, ReplicaRole } from "../../src/gen/ledger/node/v1/node_pb.js";
import { addUnaryService } from "../../src/transport/grpc-service.js";
import type { DevIo } from "../../tools/dev/io.js";
import { runDev } from "../../tools/dev/program.js";
import { buildStatusView, renderStatus, type NodeAnswer } from "../../tools/dev/status-table.js";
import { autoCleanup } from "../support/cleanup.js";
import { oneShard, oneShardConfig, replicaState } from "../support/replica-state-fixtures.js";
import { findFreePort } from "../support/free-port.js";
import { makeTempDir } from "../support/temp-dirs.js";

autoCleanup();

const config = oneShardConfig;
const shard = oneShard;

describe("buildStatusView (review)", () => {
  it("does not name as leader a deposed replica whose term a live replica has moved past under another leader", () => {
    // node03 won term 7 (node02 follows it) and then became unreachable; node01, cut off since
    // term 6, still believes it leads. A majority has moved to term 7: node01 leads nothing.
    const answers = new Map<NodeId, NodeAnswer>([
      [
        "node01",
        {
          ok: true,
          replicas: [
            replicaState("node01", { role: ReplicaRole.LEADER, term: 6n, applied: 90n, leaderNodeId: "node01" }),
          ],
        },
      ],
      [
        "node02",
        {
          ok: true,
          replicas: [
            replicaState("node02", { role: ReplicaRole.FOLLOWER, term: 7n, applied: 120n, leaderNodeId: "node03" }),
          ],
        },
      ],
      ["node03", { ok: false, reason: "DEADLINE_EXCEEDED: no answer" }],
    ]);
    const view = buildStatusView(config, answers);
    expect(view.rows[0]!.leader).not.toBe("node01");
    // The printed leader column (the table's second column) does not name it either.
    const row = renderStatus(view).find((l) => l.includes(shard.id))!;
    expect(row.split("│")[2]?.trim()).not.toBe("node01");
  });
});

function collectingIo(): { io: DevIo; stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (chunks: string[]): Writable =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
  return { io: { stdout: sink(out), stderr: sink(err) }, stdout: () => out.join(""), stderr: () => err.join("") };
}

describe("dev status reasons (review)", () => {
  it("names a node that refuses connections by the cause, as the status page does, without grpc-js's wrapper text", async () => {
    const nodes = await Promise.all(
      config.nodes.map(async (n) => ({ ...n, address: `127.0.0.1:${await findFreePort()}` })),
    );
    const path = join(await makeTempDir(), "cluster_config.json");
    await writeFile(path, formatClusterConfig({ ...config, nodes }));
    const { io, stderr } = collectingIo();
    const code = await runDev(
      ["node", "dev", "status", "--cluster-config", path, "--timeout-ms", "3000", "--insecure"],
      io,
    );
    expect(code).toBe(1);
    // The status page (describeFailure) says "UNAVAILABLE: no connection (connect ECONNREFUSED ...)".
    expect(stderr()).toMatch(
      /node01 at 127\.0\.0\.1:\d+ \(UNAVAILABLE: no connection \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)\)/,
    );
    expect(stderr()).not.toContain("Resolution note");
  }, 30_000);
});

/** A gRPC server on a loopback port whose every NodeService call fails with `message`. */
async function failingNode(message: string): Promise<{ address: string; stop: () => void }> {
  const server = new Server();
  const fail = (): Promise<never> => Promise.reject(new LedgerError("UNAVAILABLE", message));
  addUnaryService(
    server,
    NodeService,
    { propose: fail, read: fail, replicaStates: fail, transferLeadership: fail, triggerSnapshot: fail },
    () => undefined,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, stop: () => server.forceShutdown() };
}

describe("dev status output (review)", () => {
  it("prints no terminal control characters that came in a node's error message", async () => {
    // Whatever listens on a node's port chooses the error text; escape sequences in it would
    // clear or recolor the operator's terminal (and --watch redraws it every refresh).
    const nodes = await Promise.all(config.nodes.map(() => failingNode("\x1b[2J\x1b[31mreplica store broken\x07")));
    try {
      const path = join(await makeTempDir(), "cluster_config.json");
      await writeFile(
        path,
        formatClusterConfig({ ...config, nodes: config.nodes.map((n, i) => ({ ...n, address: nodes[i]!.address })) }),
      );
      const { io, stdout, stderr } = collectingIo();
      const code = await runDev(
        ["node", "dev", "status", "--cluster-config", path, "--timeout-ms", "5000", "--insecure"],
        io,
      );
      expect(code).toBe(1);
      expect(stderr()).toContain("replica store broken");
      // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting there are none.
      expect(stdout() + stderr()).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    } finally {
      for (const node of nodes) node.stop();
    }
  }, 30_000);
});
