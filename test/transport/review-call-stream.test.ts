// Review of the gateway-node Calls stream (src/transport/call-stream-client.ts and
// src/transport/call-stream-server.ts): deadline defects found in review. Each test fails while its
// defect is present; the comment above it says where and what is expected.

import { Server, ServerCredentials, type ServerDuplexStream, type UntypedHandleCall } from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { LedgerError, isLedgerError } from "../../src/base/errors.js";
import { createLogger } from "../../src/base/logger.js";
import {
  NodeService,
  ProposeRequestSchema,
  ProposeResponseSchema,
  ReadResponseSchema,
  type ProposeRequest,
} from "../../src/gen/ledger/node/v1/node_pb.js";
import { createCallStreamService } from "../../src/transport/call-stream-server.js";
import { NodeCallStream } from "../../src/transport/call-stream-client.js";
import { addUnaryService, type HandlerContext, type UnaryImpl } from "../../src/transport/grpc-service.js";
import { Closers } from "./peer-harness.js";

const closers = new Closers();
afterEach(() => closers.closeAll());

const silent = createLogger({ name: "review-call-stream", level: "silent" });
const bytes = (s: string) => new TextEncoder().encode(s);

function proposal(shardId: string, tag: string): ProposeRequest {
  return create(ProposeRequestSchema, { shardId, command: bytes(tag), requestId: tag });
}

interface Recorded {
  /** ctx.deadlineMs of every Propose the node ran, with Date.now() when it started. */
  started: { deadlineMs: number | undefined; atMs: number }[];
  /** Proposals of shard "until-aborted" whose signal aborted, with when. */
  abortedAtMs: number[];
}

/**
 * A node running the real Calls handler over a fake impl. "echo" answers at once;
 * "until-aborted" answers only once ctx.signal aborts (as a forwarded proposal ends when its
 * signal does). `delayAcceptMs` delays the Calls handler (so the response headers) per stream.
 */
async function startNode(options: { delayAcceptMs?: number } = {}): Promise<{ address: string; recorded: Recorded }> {
  const recorded: Recorded = { started: [], abortedAtMs: [] };
  const impl: UnaryImpl<typeof NodeService> = {
    async propose(req, ctx: HandlerContext) {
      recorded.started.push({ deadlineMs: ctx.deadlineMs, atMs: Date.now() });
      if (req.shardId === "until-aborted") {
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
        recorded.abortedAtMs.push(Date.now());
        throw new LedgerError("CANCELLED", "signal aborted");
      }
      return create(ProposeResponseSchema, { result: req.command, index: 1n, leaderNodeId: "n1" });
    },
    read: async () => create(ReadResponseSchema, {}),
    replicaStates: () => Promise.reject(new LedgerError("INTERNAL", "not in this test")),
    transferLeadership: () => Promise.reject(new LedgerError("INTERNAL", "not in this test")),
    triggerSnapshot: () => Promise.reject(new LedgerError("INTERNAL", "not in this test")),
  };
  const server = closers.add(new Server(), (s) => s.forceShutdown());
  const calls = createCallStreamService({ impl, logger: silent, onInternalError: () => undefined });
  const delay = options.delayAcceptMs ?? 0;
  const handler = ((call: ServerDuplexStream<unknown, unknown>) => {
    if (delay === 0) return (calls.handler as (c: unknown) => void)(call);
    const timer = setTimeout(() => (calls.handler as (c: unknown) => void)(call), delay);
    closers.add(timer, clearTimeout);
  }) as UntypedHandleCall;
  addUnaryService(server, NodeService, impl, () => undefined, undefined, { calls: handler });
  const port = await new Promise<number>((ok, fail) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))),
  );
  return { address: `127.0.0.1:${port}`, recorded };
}

function newStream(address: string): NodeCallStream {
  return closers.add(new NodeCallStream({ address, defaultDeadlineMs: 10_000, logger: silent }), (s) => s.close());
}

async function until(condition: () => boolean, what: string, maxMs = 20_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("review: deadlines on the Calls stream", () => {
  // DEFECT: a call's timeout_ms is encoded once, when the call is made
  // (src/transport/call-stream-client.ts:222, encodeNodeCall in call()), but the call may wait
  // in `queued` long before it is written: until the node accepts the stream (headers), or
  // until 'drain' when HTTP/2 flow control holds the stream (a paused or slow node). flush()
  // (lines 290-310) then sends the stale, full timeout, so the node's handler gets a deadline
  // later than the gateway's by the time the call waited, and runs (and may apply) the call
  // after the gateway has already given up on it. Expected: the node's ctx.deadlineMs is never
  // later than the caller's deadlineMs (timeout_ms = what remains when the call is written).
  it("gives the node a deadline no later than the caller's when the call waited to be written", async () => {
    const waitMs = 1_500;
    const node = await startNode({ delayAcceptMs: waitMs });
    const stream = newStream(node.address);
    const deadlineMs = Date.now() + 4_000;
    const answer = await stream.propose(proposal("echo", "waited"), { deadlineMs });
    expect(new TextDecoder().decode(answer.result)).toBe("waited");
    const ran = node.recorded.started[0];
    expect(ran).toBeDefined();
    expect(ran!.atMs - (deadlineMs - 4_000)).toBeGreaterThanOrEqual(waitMs - 50); // it did wait
    // Timer and clock slack only; the defect overshoots by about waitMs.
    expect(ran!.deadlineMs!).toBeLessThanOrEqual(deadlineMs + 300);
  });

  // DEFECT: on the node, a stream call's ctx.signal aborts only when the whole stream ends
  // (src/transport/call-stream-server.ts:184-202, run(): the signal is added to `aborts`, which only
  // finish() aborts), never when the call's deadline (timeout_ms) passes. HandlerContext
  // promises "Aborted when the caller cancels or the deadline passes"
  // (src/transport/grpc-service.ts:34), node.proto:143-145 says of timeout_ms "the node gives up
  // on the call when they pass, as a unary call's deadline would", and the unary path keeps it
  // (grpc-js cancels the call at its deadline). A handler that ends on its signal (a forwarded proposal, the fake nodes'
  // hang()) so outlives its deadline for as long as the gateway's stream lives, and holds one
  // of the stream's nodeStreamCallsInFlightMax slots all that time (enough of them and the node
  // refuses every call on that stream with RESOURCE_EXHAUSTED). Expected: the signal aborts at
  // the call's deadline.
  it("aborts a running call's signal on the node when the call's deadline passes", async () => {
    const node = await startNode();
    const stream = newStream(node.address);
    const deadlineMs = Date.now() + 500;
    const error = await stream.propose(proposal("until-aborted", "late"), { deadlineMs }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isLedgerError(error) && error.code).toBe("DEADLINE_EXCEEDED"); // the gateway gave up in time
    expect(node.recorded.started).toHaveLength(1);
    // Generous: the node should abort at about deadlineMs; the stream stays open throughout.
    await until(
      () => node.recorded.abortedAtMs.length === 1,
      "the node to abort the call's signal at its deadline",
      5_000,
    );
    expect(node.recorded.abortedAtMs[0]!).toBeLessThanOrEqual(deadlineMs + 2_000);
  });

  // DEFECT: the per-call deadline timer is a plain setTimeout(remainingMs)
  // (src/transport/call-stream-client.ts:225, and again in deadlinePassed, line 257). Node
  // clamps a delay above 2^31-1 ms (~24.8 days) to 1 ms and emits a TimeoutOverflowWarning,
  // so a call with a deadline that far away (a public client's long gRPC deadline passes
  // through ClusterBackend.deadlineOf unchanged) fires deadlinePassed every millisecond, which
  // re-arms the same overflowing timer: a 1 kHz timer spin plus one process warning per
  // millisecond, per call, for the call's whole life. grpc-js's own deadline timers (the unary
  // path) treat such a deadline as infinite. Expected: no overflowing timer, no warnings, and
  // the call simply waits for its answer.
  it("keeps a call with a deadline beyond 2^31-1 ms without a timer spin or overflow warnings", async () => {
    const node = await startNode();
    const stream = newStream(node.address);
    let overflowWarnings = 0;
    const onWarning = (w: Error): void => {
      if (w.name === "TimeoutOverflowWarning") overflowWarnings++;
    };
    process.on("warning", onWarning);
    closers.add(onWarning, (f) => process.off("warning", f));
    const thirtyDaysMs = 30 * 24 * 3_600_000;
    const held = stream.propose(proposal("until-aborted", "far"), { deadlineMs: Date.now() + thirtyDaysMs });
    held.catch(() => undefined); // failed by close() at the end
    await until(() => node.recorded.started.length === 1, "the node to run the call");
    // Let the timers run for a while: the defect fires one every millisecond.
    await new Promise((r) => setTimeout(r, 300));
    expect(stream.inFlight).toBe(1); // still waiting, as it should
    expect(overflowWarnings).toBe(0);
  });
});
