// What ClusterBackend.update tells its caller about an update it gave up on, over the Calls
// streams (src/gateway/shard-caller.ts over src/transport/call-stream-client.ts): "was not
// applied" when no attempt was ever written to a node, "outcome unknown" when a written proposal
// may have been applied.

import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";
import { ClusterBackend } from "../../src/gateway/cluster-backend.js";
import { createAccountCommand } from "../../src/gateway/core-requests.js";
import { FakeNode, fakeClusterConfig, startFakeNodes, stopNodes } from "./fake-nodes.js";
import { ledgerRejection as rejection } from "../support/rejection.js";
import { insecureTransport } from "../../src/security/transport-security.js";

const now = 1_700_000_000_000_000_000n;
const silent = createLogger({ name: "gateway-test", level: "silent" });
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** A TCP listener that accepts connections and never speaks HTTP/2: no stream is ever accepted. */
async function silentNode(id: string): Promise<FakeNode> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return new FakeNode(id, `127.0.0.1:${port}`, undefined);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("ClusterBackend.update: applied, not applied, or unknown", () => {
  // A node that is stopped (SIGSTOP) or partitioned once its stream must be reopened never
  // accepts the new stream, and a full flow-control window keeps later calls queued: such a call
  // is never written, so an attempt timeout must keep its applied = "no" rather than count it as
  // may-have-applied (which would tell a caller without a request_id that a retry may apply it twice).
  it("answers 'not applied', not 'outcome unknown', when no attempt was ever written to a node", async () => {
    const nodes = [await silentNode("node01"), await silentNode("node02"), await silentNode("node03")];
    const config = fakeClusterConfig(nodes, 1);
    const backend = new ClusterBackend({
      security: insecureTransport(),
      config,
      logger: silent,
      random: () => 0.5,
      attemptTimeoutMs: 300,
      backoffBaseMs: 50,
      backoffCapMs: 100,
    });
    cleanups.push(() => backend.close());
    const error = await rejection(
      backend.update(1n, createAccountCommand(now, 1n, ""), { deadlineMs: Date.now() + 2_500 }),
    );
    expect(error.message).not.toMatch(/outcome unknown/);
    expect(error.code).toBe("UNAVAILABLE");
    expect(error.message).toMatch(/was not applied/);
  });

  // Closing the backend (a gateway stopping) aborts every attempt in flight; a proposal already
  // written to the node fails CANCELLED without applied = "no", so it may be applied: a client
  // without a request_id that is told only "shutting down" may retry and apply it twice.
  it("says the outcome is unknown when the gateway closes while a written proposal is in flight", async () => {
    const nodes = await startFakeNodes(1);
    cleanups.push(() => stopNodes(nodes));
    const node = nodes[0]!;
    const releases: (() => void)[] = [];
    cleanups.push(() => {
      for (const r of releases) r();
    });
    node.onPropose = () => new Promise((_, reject) => releases.push(() => reject(new Error("released at cleanup"))));
    const backend = new ClusterBackend({
      security: insecureTransport(),
      config: fakeClusterConfig(nodes, 1),
      logger: silent,
      random: () => 0.5,
    });
    const call = rejection(backend.update(1n, createAccountCommand(now, 1n, ""), { deadlineMs: Date.now() + 10_000 }));
    await until(() => node.proposals.length === 1, "the proposal to reach the node");
    await backend.close();
    const error = await call;
    expect(error.code).toBe("UNAVAILABLE");
    expect(error.message).toMatch(/outcome of this update is unknown|outcome unknown/);
  });
});
