// NodeService/Calls end to end: NodeCallStream (gateway side) against a real in-process grpc-js
// server running the node's Calls handler over a fake NodeService impl whose answers the test
// controls (echo, hold until released, NOT_LEADER, a bug).

import { createServer, type Socket } from "node:net";
import {
  Client,
  ChannelCredentials,
  Metadata,
  Server,
  ServerCredentials,
  status as grpcStatus,
  type ClientDuplexStream,
  type ServerDuplexStream,
  type StatusObject,
  type UntypedHandleCall,
} from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { LedgerError, isLedgerError } from "../../src/base/errors.js";
import { createLogger } from "../../src/base/logger.js";
import { callStreamMessageBytesMax } from "../../src/transport/limits.js";
import { proposalMayHaveApplied } from "../../src/gateway/retry-policy.js";
import {
  CallsRequestSchema,
  CallsResponseSchema,
  type NodeCallSchema,
  NodeService,
  ProposeRequestSchema,
  ProposeResponseSchema,
  ReadRequestSchema,
  ReadResponseSchema,
  type CallsResponse,
  type ProposeRequest,
} from "../../src/gen/ledger/node/v1/node_pb.js";
import { createCallStreamService, type CallStreamService } from "../../src/transport/call-stream-server.js";
import { notApplied } from "../../src/node/waiters.js";
import { NodeCallStream } from "../../src/transport/call-stream-client.js";
import {
  addUnaryService,
  createUnaryClient,
  methodPath,
  serviceDefinition,
  type UnaryImpl,
} from "../../src/transport/grpc-service.js";
import { findFreePort } from "../support/free-port.js";
import { Closers } from "./peer-harness.js";

const closers = new Closers();
afterEach(() => closers.closeAll());

const silent = createLogger({ name: "call-stream-test", level: "silent" });
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A proposal whose behaviour at the fake node is its shard id, and whose command is `tag`. */
function proposal(shardId: string, tag: string): ProposeRequest {
  return create(ProposeRequestSchema, { shardId, command: bytes(tag), requestId: tag });
}

interface Held {
  request: ProposeRequest;
  release(): void;
}

interface FakeNode {
  address: string;
  port: number;
  server: Server;
  calls: CallStreamService;
  held: Map<string, Held>;
  /** Resolves once at least n proposals are being held. */
  waitHeld(n: number): Promise<void>;
  /** Method, code of every call observed. */
  observed: [string, string][];
  internalErrors: unknown[];
  /** Calls of shard "until-aborted" waiting for their signal, and those whose signal aborted. */
  waiting: { count: number };
  aborted: { count: number };
  /** When each "until-aborted" call's signal aborted (Date.now()). */
  abortedAtMs: number[];
  /** ctx.deadlineMs of every Propose the node ran, with Date.now() when it started. */
  started: { deadlineMs: number | undefined; atMs: number }[];
  stop(): void;
}

/**
 * A node running the real Calls handler over a fake impl; a proposal's shard id says what it
 * does. `delayAcceptMs` delays the Calls handler (so the response headers) of every stream.
 */
async function startFakeNode(
  options: { port?: number; inFlightMax?: number; delayAcceptMs?: number } = {},
): Promise<FakeNode> {
  const held = new Map<string, Held>();
  const heldWaiters: { n: number; resolve: () => void }[] = [];
  const observed: [string, string][] = [];
  const internalErrors: unknown[] = [];
  const waiting = { count: 0 };
  const aborted = { count: 0 };
  const abortedAtMs: number[] = [];
  const started: { deadlineMs: number | undefined; atMs: number }[] = [];
  const echo = (req: ProposeRequest) =>
    create(ProposeResponseSchema, { result: req.command, index: 1n, leaderNodeId: "n1" });
  const impl: UnaryImpl<typeof NodeService> = {
    async propose(req, ctx) {
      started.push({ deadlineMs: ctx.deadlineMs, atMs: Date.now() });
      switch (req.shardId) {
        case "echo":
          return echo(req);
        case "hold":
          await new Promise<void>((release) => {
            held.set(req.requestId, { request: req, release });
            for (const w of heldWaiters.splice(0)) held.size >= w.n ? w.resolve() : heldWaiters.push(w);
          });
          return echo(req);
        case "not-leader":
          throw notApplied("NOT_LEADER", "s1: node n1 is not the leader; the leader is n3", { leader: "n3" });
        case "crash":
          throw new Error("a bug in the handler");
        case "until-aborted":
          await new Promise<void>((resolve) => {
            ctx.signal.addEventListener("abort", () => resolve(), { once: true });
            waiting.count++;
          });
          aborted.count++;
          abortedAtMs.push(Date.now());
          throw new LedgerError("CANCELLED", "the stream ended");
        default:
          throw new LedgerError("NOT_FOUND", `unknown shard ${req.shardId}`);
      }
    },
    async read(req) {
      return create(ReadResponseSchema, { result: req.query, appliedIndex: 5n });
    },
    replicaStates: () => Promise.reject(new LedgerError("INTERNAL", "not in this test")),
    transferLeadership: () => Promise.reject(new LedgerError("INTERNAL", "not in this test")),
    triggerSnapshot: () => Promise.reject(new LedgerError("INTERNAL", "not in this test")),
  };
  const server = new Server();
  const onInternalError = (_method: string, e: unknown) => internalErrors.push(e);
  const observe = (method: string, code: string) => observed.push([method, code]);
  const calls = createCallStreamService({
    impl,
    logger: silent,
    onInternalError,
    observe,
    inFlightMax: options.inFlightMax,
  });
  const delay = options.delayAcceptMs ?? 0;
  const timers: NodeJS.Timeout[] = [];
  const handler =
    delay === 0
      ? calls.handler
      : (((call: ServerDuplexStream<unknown, unknown>) => {
          timers.push(setTimeout(() => (calls.handler as (c: unknown) => void)(call), delay));
        }) as UntypedHandleCall);
  addUnaryService(server, NodeService, impl, onInternalError, observe, { calls: handler });
  const port = await new Promise<number>((ok, fail) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, ServerCredentials.createInsecure(), (e, p) =>
      e ? fail(e) : ok(p),
    ),
  );
  const node: FakeNode = {
    address: `127.0.0.1:${port}`,
    port,
    server,
    calls,
    held,
    observed,
    internalErrors,
    waiting,
    aborted,
    abortedAtMs,
    started,
    waitHeld: (n) => (held.size >= n ? Promise.resolve() : new Promise((resolve) => heldWaiters.push({ n, resolve }))),
    stop: () => {
      for (const t of timers) clearTimeout(t);
      for (const h of held.values()) h.release();
      server.forceShutdown();
    },
  };
  closers.add(node, (n) => n.stop());
  return node;
}

function newStream(
  address: string,
  options: { inFlightMax?: number; bytesInFlightMax?: number; defaultDeadlineMs?: number } = {},
): NodeCallStream {
  return closers.add(
    new NodeCallStream({
      address,
      defaultDeadlineMs: options.defaultDeadlineMs ?? 10_000,
      inFlightMax: options.inFlightMax,
      bytesInFlightMax: options.bytesInFlightMax,
      logger: silent,
    }),
    (s) => s.close(),
  );
}

/** The rejection of `p`, which must reject with a LedgerError. */
async function failure(p: Promise<unknown>): Promise<LedgerError> {
  try {
    await p;
  } catch (e) {
    if (isLedgerError(e)) return e;
    throw e;
  }
  throw new Error("expected a rejection");
}

/** Polls `condition` until it holds, failing after `maxMs` (by default a generous deadline). */
async function until(condition: () => boolean, what: string, maxMs = 20_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("NodeCallStream over the node's Calls handler", () => {
  it("sends the calls of one turn as one CallsRequest and gives every caller its own reply", async () => {
    const node = await startFakeNode();
    const stream = newStream(node.address);
    const first = await Promise.all(Array.from({ length: 200 }, (_, i) => stream.propose(proposal("echo", `a${i}`))));
    expect(first.map((r) => text(r.result))).toEqual(Array.from({ length: 200 }, (_, i) => `a${i}`));
    expect(node.calls.stats.batchesReceived).toBe(1);
    const reads = Array.from({ length: 100 }, (_, i) =>
      stream.read(create(ReadRequestSchema, { shardId: "s1", query: bytes(`q${i}`) })),
    );
    const writes = Array.from({ length: 100 }, (_, i) => stream.propose(proposal("echo", `b${i}`)));
    const [readAnswers, writeAnswers] = await Promise.all([Promise.all(reads), Promise.all(writes)]);
    expect(readAnswers.map((r) => [text(r.result), r.appliedIndex])).toEqual(
      Array.from({ length: 100 }, (_, i) => [`q${i}`, 5n]),
    );
    expect(writeAnswers.map((r) => text(r.result))).toEqual(Array.from({ length: 100 }, (_, i) => `b${i}`));
    expect(node.calls.stats.batchesReceived).toBe(2);
    expect(stream.streamsOpened).toBe(1);
    expect(node.observed.filter(([m, c]) => m === "Propose" && c === "OK")).toHaveLength(300);
    expect(node.observed.filter(([m, c]) => m === "Read" && c === "OK")).toHaveLength(100);
  });

  it("matches replies that come back out of order to their callers", async () => {
    const node = await startFakeNode();
    const stream = newStream(node.address);
    const tags = ["c0", "c1", "c2", "c3", "c4"];
    const answers = tags.map((t) => stream.propose(proposal("hold", t)).then((r) => text(r.result)));
    await node.waitHeld(tags.length);
    const order: string[] = [];
    for (const t of [...tags].reverse()) {
      node.held.get(t)!.release();
      order.push(await answers[tags.indexOf(t)]!);
    }
    expect(order).toEqual([...tags].reverse());
  });

  it("splits a turn's calls into stream messages within the size bound, all answered", async () => {
    const node = await startFakeNode();
    const stream = newStream(node.address);
    const big = "x".repeat(200_000);
    const n = 40; // 8 MB: at least four messages of callStreamMessageBytesMax
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) => stream.propose(proposal("echo", `${i}:${big}`))),
    );
    expect(answers.map((r) => text(r.result).split(":")[0])).toEqual(Array.from({ length: n }, (_, i) => String(i)));
    expect(node.calls.stats.batchesReceived).toBeGreaterThanOrEqual(
      Math.ceil((n * 200_000) / callStreamMessageBytesMax),
    );
    expect(node.calls.stats.batchesReceived).toBeLessThan(n);
  });

  it("turns a node's error into the same LedgerError the unary call gives, details included", async () => {
    const node = await startFakeNode();
    const stream = newStream(node.address);
    const unary = closers.add(createUnaryClient(NodeService, node.address, { defaultDeadlineMs: 10_000 }), (c) =>
      c.close(),
    );
    for (const shard of ["not-leader", "crash", "unknown-shard"]) {
      const viaStream = await failure(stream.propose(proposal(shard, "x")));
      const viaUnary = await failure(unary.propose(proposal(shard, "x")));
      expect({ code: viaStream.code, message: viaStream.message, details: viaStream.details }).toEqual({
        code: viaUnary.code,
        message: viaUnary.message,
        details: viaUnary.details,
      });
    }
    const notLeader = await failure(stream.propose(proposal("not-leader", "y")));
    expect(notLeader.code).toBe("NOT_LEADER");
    expect(notLeader.details).toEqual({ leader: "n3", applied: "no" });
    const crash = await failure(stream.propose(proposal("crash", "z")));
    expect(crash.code).toBe("INTERNAL");
    expect(crash.message).toBe("internal error; see the server log");
    expect(node.internalErrors.length).toBeGreaterThanOrEqual(2);
    expect(node.observed).toContainEqual(["Propose", "NOT_LEADER"]);
  });

  it("fails a call at its deadline at once, ignores its late reply, and keeps the stream usable", async () => {
    const node = await startFakeNode();
    const stream = newStream(node.address);
    const late = stream.propose(proposal("hold", "late"), { deadlineMs: Date.now() + 300 });
    await node.waitHeld(1);
    const error = await failure(late);
    expect(error.code).toBe("DEADLINE_EXCEEDED");
    expect(proposalMayHaveApplied(error)).toBe(true); // it reached the node
    expect(stream.inFlight).toBe(0);
    node.held.get("late")!.release();
    const next = await stream.propose(proposal("echo", "after"));
    expect(text(next.result)).toBe("after");
    expect(stream.streamsOpened).toBe(1);
  });

  it("fails an aborted call with CANCELLED at once, and one aborted before it was made as not applied", async () => {
    const node = await startFakeNode();
    const stream = newStream(node.address);
    const controller = new AbortController();
    const call = stream.propose(proposal("hold", "abort-me"), { signal: controller.signal });
    await node.waitHeld(1);
    controller.abort();
    const error = await failure(call);
    expect(error.code).toBe("CANCELLED");
    expect(proposalMayHaveApplied(error)).toBe(true);
    const before = await failure(stream.propose(proposal("echo", "never"), { signal: controller.signal }));
    expect(before.code).toBe("CANCELLED");
    expect(before.details.applied).toBe("no");
    node.held.get("abort-me")!.release();
    expect(text((await stream.propose(proposal("echo", "still-up"))).result)).toBe("still-up");
  });

  it("aborts the signal of a call still running on the node when its stream ends", async () => {
    const node = await startFakeNode();
    const stream = newStream(node.address);
    const running = stream.propose(proposal("until-aborted", "r"));
    await until(() => node.waiting.count === 1, "the call to run");
    stream.close();
    const error = await failure(running);
    expect(error.code).toBe("UNAVAILABLE");
    expect(proposalMayHaveApplied(error)).toBe(true);
    await until(() => node.aborted.count === 1, "the node to abort the call's signal");
    await until(() => node.calls.openStreams === 0, "the node to drop the stream");
  });

  it("fails the calls on a broken stream as may-have-applied, and the next call opens a new stream", async () => {
    const port = await findFreePort();
    const node = await startFakeNode({ port });
    const stream = newStream(node.address);
    const pending = [stream.propose(proposal("hold", "p1")), stream.propose(proposal("hold", "p2"))];
    await node.waitHeld(2);
    node.server.forceShutdown();
    for (const p of pending) {
      const error = await failure(p);
      expect(error.code).toBe("UNAVAILABLE");
      expect(error.details.applied).toBeUndefined();
      expect(proposalMayHaveApplied(error)).toBe(true);
    }
    node.stop();
    const again = await startFakeNode({ port });
    // The channel reconnects on its own schedule; until then calls fail as never sent.
    const deadline = Date.now() + 20_000;
    let answer: string | undefined;
    while (answer === undefined) {
      try {
        answer = text((await stream.propose(proposal("echo", "reopened"))).result);
      } catch (e) {
        if (!isLedgerError(e) || proposalMayHaveApplied(e) || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(answer).toBe("reopened");
    expect(stream.streamsOpened).toBeGreaterThanOrEqual(2);
    expect(again.calls.stats.streamsOpened).toBe(1);
  });

  it("fails calls to a node that cannot be reached with grpc-js's never-sent status", async () => {
    const port = await findFreePort();
    const stream = newStream(`127.0.0.1:${port}`);
    const errors = await Promise.all([
      failure(stream.propose(proposal("echo", "a"))),
      failure(stream.read(create(ReadRequestSchema, { shardId: "s1" }))),
    ]);
    for (const error of errors) {
      expect(error.code).toBe("UNAVAILABLE");
      expect(error.message).toMatch(/^No connection established/);
      expect(proposalMayHaveApplied(error)).toBe(false);
    }
  });

  it("reports a call whose deadline passed before the node accepted the stream as not applied", async () => {
    // Accepts TCP and never speaks HTTP/2: the stream stays unaccepted.
    const sockets = new Set<Socket>();
    const silentServer = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silentServer.listen(0, "127.0.0.1", resolve));
    closers.add(silentServer, (s) => {
      for (const socket of sockets) socket.destroy();
      s.close();
    });
    const address = silentServer.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const stream = newStream(`127.0.0.1:${port}`);
    const error = await failure(stream.propose(proposal("echo", "stuck"), { deadlineMs: Date.now() + 300 }));
    expect(error.code).toBe("DEADLINE_EXCEEDED");
    expect(error.details.applied).toBe("no");
    expect(proposalMayHaveApplied(error)).toBe(false);
  });

  it("refuses a call beyond the client's in-flight bound at once, as not applied", async () => {
    const node = await startFakeNode();
    const stream = newStream(node.address, { inFlightMax: 3 });
    const held = ["h1", "h2", "h3"].map((t) => stream.propose(proposal("hold", t)));
    const error = await failure(stream.propose(proposal("echo", "one-too-many")));
    expect(error.code).toBe("RESOURCE_EXHAUSTED");
    expect(error.details.applied).toBe("no");
    await node.waitHeld(3);
    for (const h of node.held.values()) h.release();
    await Promise.all(held);
    expect(text((await stream.propose(proposal("echo", "room-again"))).result)).toBe("room-again");
  });

  it("refuses a call beyond the node's per-stream in-flight bound with RESOURCE_EXHAUSTED, as not applied", async () => {
    const node = await startFakeNode({ inFlightMax: 2 });
    const stream = newStream(node.address);
    const held = ["h1", "h2"].map((t) => stream.propose(proposal("hold", t)));
    await node.waitHeld(2);
    const error = await failure(stream.propose(proposal("echo", "over")));
    expect(error.code).toBe("RESOURCE_EXHAUSTED");
    expect(error.details.applied).toBe("no");
    expect(node.observed).toContainEqual(["Propose", "RESOURCE_EXHAUSTED"]);
    for (const h of node.held.values()) h.release();
    await Promise.all(held);
  });

  it("refuses a call that would pass the client's in-flight byte bound at once, as not applied", async () => {
    const node = await startFakeNode();
    const stream = newStream(node.address, { bytesInFlightMax: 10_000 });
    const big = "b".repeat(3_000); // ~6 KB a request: command and request_id each carry it
    const held = stream.propose(proposal("hold", `h1:${big}`));
    const error = await failure(stream.propose(proposal("echo", `over:${big}`)));
    expect(error.code).toBe("RESOURCE_EXHAUSTED");
    expect(error.details.applied).toBe("no");
    expect(error.message).toMatch(/10000-byte limit/);
    // Bytes, not calls: a small call still fits beside the held one.
    expect(text((await stream.propose(proposal("echo", "small"))).result)).toBe("small");
    await node.waitHeld(1);
    for (const h of node.held.values()) h.release();
    await held;
    // Released with the held call's answer.
    expect(text((await stream.propose(proposal("echo", `fits:${big}`))).result)).toBe(`fits:${big}`);
  });

  it("aborts a call's signal on the node at its deadline and frees its in-flight slot on the stream", async () => {
    const node = await startFakeNode({ inFlightMax: 1 });
    const stream = newStream(node.address);
    const late = await failure(stream.propose(proposal("until-aborted", "late"), { deadlineMs: Date.now() + 300 }));
    expect(late.code).toBe("DEADLINE_EXCEEDED");
    await until(() => node.aborted.count === 1, "the node to abort the call's signal at its deadline");
    // The stream stayed open throughout, and its only slot is free again.
    expect(text((await stream.propose(proposal("echo", "next"))).result)).toBe("next");
    expect(stream.streamsOpened).toBe(1);
  });

  it("ends a stream whose CallsRequest carries more calls than may be in flight, naming the limit, without running any", async () => {
    const node = await startFakeNode({ inFlightMax: 4 });
    const raw = new RawCalls(node.address);
    const ended = raw.ended();
    raw.send(
      Array.from({ length: 5 }, (_, i) => ({
        callId: BigInt(i + 1),
        kind: { case: "propose" as const, value: proposal("echo", `c${i}`) },
      })),
    );
    const status = await ended;
    expect(status.code).toBe(grpcStatus.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(
      /5 calls exceeds the 4 calls a stream may have in flight \(nodeStreamCallsInFlightMax\)/,
    );
    expect(raw.received).toHaveLength(0); // no refusal per call
    expect(node.observed).toEqual([]);
    // A message at the limit is served as usual on a new stream.
    const next = new RawCalls(node.address);
    next.send(
      Array.from({ length: 4 }, (_, i) => ({
        callId: BigInt(i + 1),
        kind: { case: "propose" as const, value: proposal("echo", `d${i}`) },
      })),
    );
    expect((await next.replies(4)).every((r) => r.kind.case === "propose")).toBe(true);
  });

  it("answers a malformed call with an error naming the field and keeps the stream usable", async () => {
    const node = await startFakeNode();
    const raw = new RawCalls(node.address);
    const hold = create(ProposeRequestSchema, { shardId: "hold", command: bytes("first"), requestId: "first" });
    raw.send([{ callId: 7n, kind: { case: "propose", value: hold } }]);
    await node.waitHeld(1);
    raw.send([
      { callId: 8n, kind: { case: undefined } },
      { callId: 7n, kind: { case: "propose", value: proposal("echo", "dup") } },
    ]);
    const errors = await raw.replies(2);
    expect(errors.map((r) => [r.callId, r.kind.case, r.kind.case === "error" ? r.kind.value.message : ""])).toEqual([
      [8n, "error", "calls[0].kind must be set (propose or read)"],
      [7n, "error", "calls[1].call_id 7 is already in flight on this stream"],
    ]);
    expect(errors.map((r) => (r.kind.case === "error" ? [r.kind.value.code, r.kind.value.details] : []))).toEqual([
      ["INVALID_ARGUMENT", { applied: "no" }],
      // The reply carries the running call's id, so it must not say that call was not applied.
      ["INVALID_ARGUMENT", {}],
    ]);
    node.held.get("first")!.release();
    raw.send([{ callId: 9n, kind: { case: "propose", value: proposal("echo", "fine") } }]);
    const rest = await raw.replies(4);
    expect(rest.slice(2).map((r) => [r.callId, r.kind.case])).toEqual([
      [7n, "propose"],
      [9n, "propose"],
    ]);
  });

  it("ends only the stream of a CallsRequest that does not decode; the node serves the next stream", async () => {
    const node = await startFakeNode();
    const raw = new RawCalls(node.address);
    raw.sendBytes(Buffer.from([0x0a, 0x05, 0xff, 0xff])); // calls[0] claims 5 bytes, has 2
    const status = await raw.ended();
    expect(status.code).not.toBe(0);
    await until(() => node.calls.openStreams === 0, "the node to drop the stream");
    const stream = newStream(node.address);
    expect(text((await stream.propose(proposal("echo", "next"))).result)).toBe("next");
  });
});

describe("a call's deadline on a Calls stream", () => {
  // A call may wait to be written long after it was made: until the node accepts the stream
  // (headers), or until 'drain' while HTTP/2 flow control holds the stream (a paused or slow
  // node). Its timeout_ms must be what remains when it is written, or the node would run (and
  // might apply) the call after the gateway has given up on it.
  it("gives the node a deadline no later than the caller's when the call waited to be written", async () => {
    const waitMs = 1_500;
    const node = await startFakeNode({ delayAcceptMs: waitMs });
    const stream = newStream(node.address);
    const deadlineMs = Date.now() + 4_000;
    const answer = await stream.propose(proposal("echo", "waited"), { deadlineMs });
    expect(text(answer.result)).toBe("waited");
    const ran = node.started[0];
    expect(ran).toBeDefined();
    expect(ran!.atMs - (deadlineMs - 4_000)).toBeGreaterThanOrEqual(waitMs - 50); // it did wait
    // Timer and clock slack only: a timeout encoded when the call was made overshoots by about waitMs.
    expect(ran!.deadlineMs!).toBeLessThanOrEqual(deadlineMs + 300);
  });

  // HandlerContext's signal aborts "when the caller cancels or the deadline passes", as grpc-js
  // does for a unary call; a handler that ends on its signal (a forwarded proposal) must not
  // outlive its deadline for as long as the stream lives, holding one of the stream's in-flight
  // slots all that time.
  it("aborts a running call's signal on the node when the call's deadline passes", async () => {
    const node = await startFakeNode();
    const stream = newStream(node.address);
    const deadlineMs = Date.now() + 500;
    const error = await stream.propose(proposal("until-aborted", "late"), { deadlineMs }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isLedgerError(error) && error.code).toBe("DEADLINE_EXCEEDED"); // the gateway gave up in time
    expect(node.started).toHaveLength(1);
    // Generous: the node should abort at about deadlineMs; the stream stays open throughout.
    await until(() => node.abortedAtMs.length === 1, "the node to abort the call's signal at its deadline", 5_000);
    expect(node.abortedAtMs[0]!).toBeLessThanOrEqual(deadlineMs + 2_000);
  });

  // Node clamps a setTimeout delay above 2^31-1 ms (~24.8 days) to 1 ms and warns
  // (TimeoutOverflowWarning). A public client's long gRPC deadline passes through to the call
  // unchanged, so a plain timer would fire every millisecond and re-arm itself for the call's
  // whole life; grpc-js's own deadline timers treat such a deadline as infinite.
  it("keeps a call with a deadline beyond 2^31-1 ms without a timer spin or overflow warnings", async () => {
    const node = await startFakeNode();
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
    await until(() => node.started.length === 1, "the node to run the call");
    // Let the timers run for a while: a spinning timer would fire every millisecond.
    await new Promise((r) => setTimeout(r, 300));
    expect(stream.inFlight).toBe(1); // still waiting, as it should
    expect(overflowWarnings).toBe(0);
  });
});

describe("backpressure on a Calls stream", () => {
  it("the gateway holds batches while the node does not read, and a call held back fails as not applied", async () => {
    // A node that accepts the stream and never reads it.
    const server = closers.add(new Server(), (s) => s.forceShutdown());
    server.addService(serviceDefinition(NodeService), {
      calls: ((call: ServerDuplexStream<unknown, unknown>) => {
        call.sendMetadata(new Metadata());
        call.pause();
      }) as UntypedHandleCall,
    });
    const port = await new Promise<number>((ok, fail) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))),
    );
    const stream = newStream(`127.0.0.1:${port}`);
    const deadlineMs = Date.now() + 3_000;
    const calls = [stream.propose(proposal("echo", "first"), { deadlineMs })];
    await until(() => stream.connected, "the stream to be accepted");
    // One call per turn, so one stream message each: far more than grpc-js and HTTP/2 buffer.
    const turns = 120;
    const chunk = "y".repeat(64 * 1024);
    for (let i = 0; i < turns; i++) {
      calls.push(stream.propose(proposal("echo", `${i}:${chunk}`), { deadlineMs }));
      await new Promise((r) => setImmediate(r));
    }
    const errors = await Promise.all(calls.map(failure));
    const held = errors.filter((e) => e.details.applied === "no");
    expect(errors.every((e) => e.code === "DEADLINE_EXCEEDED")).toBe(true);
    expect(held.length).toBeGreaterThan(0);
    expect(held.length).toBeLessThan(errors.length); // the first ones were written
    expect(stream.batchesWritten).toBe(errors.length - held.length);
  });

  it("the node stops reading a stream whose client does not read its replies, and answers every call once it does", async () => {
    const node = await startFakeNode();
    const raw = new RawCalls(node.address);
    raw.pause();
    const n = 120;
    const query = bytes("q".repeat(300 * 1024));
    for (let i = 0; i < n; i++) {
      raw.send([
        { callId: BigInt(i + 1), kind: { case: "read", value: create(ReadRequestSchema, { shardId: "s1", query }) } },
      ]);
      await new Promise((r) => setImmediate(r));
    }
    await until(() => node.calls.stats.readPauses > 0, "the node to stop reading");
    raw.resume();
    const replies = await raw.replies(n);
    expect(replies.map((r) => r.callId).sort((a, b) => Number(a - b))).toEqual(
      Array.from({ length: n }, (_, i) => BigInt(i + 1)),
    );
    expect(replies.every((r) => r.kind.case === "read" && r.kind.value.result.length === query.length)).toBe(true);
  });
});

describe("a stopping node's Calls streams", () => {
  it("refuse new calls as not applied, answer the running ones, then end so the server's shutdown completes", async () => {
    const node = await startFakeNode();
    const stream = newStream(node.address);
    const running = stream.propose(proposal("hold", "running"));
    await node.waitHeld(1);
    expect(node.calls.openStreams).toBe(1);
    let shutDown = false;
    node.server.tryShutdown(() => (shutDown = true));
    node.calls.stopAccepting();
    const refused = await failure(stream.propose(proposal("echo", "late")));
    expect(refused.code).toBe("UNAVAILABLE");
    expect(refused.details.applied).toBe("no");
    expect(shutDown).toBe(false);
    node.held.get("running")!.release();
    expect(text((await running).result)).toBe("running");
    await until(() => node.calls.openStreams === 0 && shutDown, "the stream to end and the server to shut down");
    const after = await failure(stream.propose(proposal("echo", "after-stop")));
    expect(after.code).toBe("UNAVAILABLE");
    expect(proposalMayHaveApplied(after)).toBe(false);
  });

  it("end at once when nothing is running", async () => {
    const node = await startFakeNode();
    const stream = newStream(node.address);
    expect(text((await stream.propose(proposal("echo", "x"))).result)).toBe("x");
    let shutDown = false;
    node.server.tryShutdown(() => (shutDown = true));
    node.calls.stopAccepting();
    await until(() => shutDown, "the server to shut down");
    expect(node.calls.openStreams).toBe(0);
  });
});

/** A Calls stream driven by hand, to send what NodeCallStream never would. */
class RawCalls {
  private readonly client: Client;
  private readonly stream: ClientDuplexStream<Buffer, CallsResponse>;
  readonly received: CallsResponse["replies"] = [];
  private readonly waiters: (() => void)[] = [];

  constructor(address: string) {
    this.client = new Client(address, ChannelCredentials.createInsecure());
    this.stream = this.client.makeBidiStreamRequest(
      methodPath(NodeService.method.calls),
      (b: Buffer) => b,
      (b: Buffer) => fromBinary(CallsResponseSchema, b),
      new Metadata(),
      {},
    );
    this.stream.on("data", (r: CallsResponse) => {
      this.received.push(...r.replies);
      for (const w of this.waiters.splice(0)) w();
    });
    this.stream.on("error", () => undefined);
    closers.add(this, (r) => r.close());
  }

  send(calls: MessageInitShape<typeof NodeCallSchema>[]): void {
    this.sendBytes(Buffer.from(toBinary(CallsRequestSchema, create(CallsRequestSchema, { calls }))));
  }

  sendBytes(message: Buffer): void {
    this.stream.write(message);
  }

  /** The stream's final status. */
  ended(): Promise<StatusObject> {
    return new Promise((resolve) => this.stream.once("status", resolve));
  }

  async replies(n: number): Promise<CallsResponse["replies"]> {
    while (this.received.length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.received.slice(0, n);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}
