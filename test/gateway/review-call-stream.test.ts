// Review of the gateway's use of the Calls stream (src/gateway/shard-caller.ts over
// src/transport/call-stream-client.ts): whether the public answer says "not applied" or
// "outcome unknown" when it should. Each test fails while its defect is present.

import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";
import { ClusterBackend } from "../../src/gateway/cluster-backend.js";
import { createAccountCommand } from "../../src/gateway/core-requests.js";
import { FakeNode, fakeClusterConfig, startFakeNodes, stopNodes } from "./fake-nodes.js";
import { ledgerRejection as rejection } from "../support/rejection.js";
import { insecureTransport } from "../../src/security/transport-security.js";

const now = 1_700_000_000_000_000_000n;
const silent = createLogger({ name: "review-call-stream", level: "silent" });
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

describe("review: the gateway's answer over Calls streams", () => {
  // DEFECT: ShardCaller.attempt (src/gateway/shard-caller.ts:193-196) replaces the error of an
  // attempt it gave up on (attemptTimeoutMs) with DEADLINE_EXCEEDED {attemptTimedOut: "yes"},
  // dropping the stream's details.applied = "no". NodeCallStream knows exactly when a call was
  // never written (it waited for the node to accept the stream, or for 'drain' under
  // backpressure: call-stream-client.ts:264-268 marks it applied=no), but every such attempt
  // is then counted as may-have-applied (call():148), so an update that never left the
  // gateway ends with "outcome unknown ... may or may not have been applied" (and a caller
  // without a request_id is told a retry may apply it twice) instead of "was not applied".
  // With the stream this certainty is common: a node that is stopped (SIGSTOP) or partitioned
  // once its stream must be reopened (the new stream is never accepted), or a node whose
  // flow-control window is full (later calls stay queued): none of those calls is ever sent.
  // Expected: an attempt timeout of a call that was never written keeps applied = "no"; the
  // final error is UNAVAILABLE "... was not applied".
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

  // DEFECT (present before the stream, kept by it): ShardCaller.call checks throwIfClosed
  // (src/gateway/shard-caller.ts:144) BEFORE it records that the failed attempt may have
  // applied (line 148). ShardCaller.close() (ClusterBackend.close, a gateway stopping) aborts
  // every attempt in flight; a proposal already written to the node fails CANCELLED without
  // applied=no (call-stream-client.ts expire()), i.e. it may be applied, yet the caller is told
  // only "the gateway is shutting down" (UNAVAILABLE): the "outcome unknown" suffix of
  // throwIfClosed never appears for a first attempt. A client without a request_id may retry
  // and apply twice. Expected: the error says the outcome is unknown.
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
