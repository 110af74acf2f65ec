// ClusterBackend's writes when the call is cut short by the gateway's own shutdown, or answered
// with a result the gateway cannot read: a write that may have reached a node ends as an unknown
// outcome with the request_id advice (single update and each batch item alike); a write that
// was never sent says only that the gateway is shutting down; an unreadable result fails only
// its own item, always as a LedgerError.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { createLogger } from "../../src/base/logger.js";
import { ClusterBackend } from "../../src/gateway/cluster-backend.js";
import { createTransactionCommand } from "../../src/gateway/core-requests.js";
import {
  CommandResultSchema,
  CommandSchema,
  TransactionRecordSchema,
  type Command,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import { ProposeResponseSchema, type ProposeRequest } from "../../src/gen/ledger/node/v1/node_pb.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import { fakeClusterConfig, hang, startFakeNodes, stopNodes, type FakeNode } from "./fake-nodes.js";
import { insecureTransport } from "../../src/security/transport-security.js";

let nodes: FakeNode[] = [];
let backend: ClusterBackend | undefined;

afterEach(async () => {
  await backend?.close();
  backend = undefined;
  stopNodes(nodes);
  nodes = [];
});

async function oneNodeBackend(): Promise<ClusterBackend> {
  nodes = await startFakeNodes(1);
  backend = new ClusterBackend({
    security: insecureTransport(),
    config: fakeClusterConfig(nodes, 1),
    logger: createLogger({ name: "update-faults", level: "silent" }),
    random: () => 0.5,
  });
  return backend;
}

const create5 = (accountId: bigint, requestId: string): Command =>
  createTransactionCommand(1_700_000_000_000_000_000n, {
    accountId,
    localId: accountId + 100n,
    amount: 5n,
    description: "",
    settled: true,
    requestId,
  });

/** The encoded result a node gives for a created transaction. */
function created(commandBytes: Uint8Array): Uint8Array {
  const c = fromBinary(CommandSchema, commandBytes);
  if (c.kind.case !== "createTransaction") throw new Error("expected a create");
  const { accountId, localId, amount } = c.kind.value;
  const record = create(TransactionRecordSchema, {
    accountId,
    localId,
    seq: 1n,
    amount,
    status: TransactionStatus.SETTLED,
    createdAt: 1n,
    updatedAt: 1n,
  });
  return toBinary(CommandResultSchema, create(CommandResultSchema, { kind: { case: "transaction", value: record } }));
}

async function rejection(p: Promise<unknown>): Promise<LedgerError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LedgerError);
  return e as LedgerError;
}

describe("ClusterBackend writes cut short or answered unreadably", () => {
  it("update() in flight when the gateway closes ends as an unknown outcome naming the shutdown, with its request_id advice", async () => {
    const b = await oneNodeBackend();
    let received!: () => void;
    const arrived = new Promise<void>((resolve) => (received = resolve));
    nodes[0]!.onPropose = (_req, ctx) => {
      received();
      return hang(ctx);
    };
    const pending = rejection(b.update(1n, create5(1n, "pay-1"), { deadlineMs: Date.now() + 20_000 }));
    await arrived;
    await b.close();
    const e = await pending;
    expect(e.code).toBe("UNAVAILABLE");
    expect(e.message).toMatch(/^outcome unknown: /);
    expect(e.message).toContain("the gateway is shutting down");
    expect(e.message).toContain('retrying with the same request_id "pay-1" is safe');
  });

  it("update() after the gateway closed was never sent: it says the gateway is shutting down, not that the outcome is unknown", async () => {
    const b = await oneNodeBackend();
    await b.close();
    const e = await rejection(b.update(1n, create5(1n, "pay-1"), { deadlineMs: Date.now() + 20_000 }));
    expect(e.code).toBe("UNAVAILABLE");
    expect(e.message).toBe("the gateway is shutting down");
    expect(nodes[0]!.calls).toBe(0);
  });

  it("update() answered with a result that does not decode fails with a LedgerError: INTERNAL, outcome unknown, with its request_id advice", async () => {
    const b = await oneNodeBackend();
    nodes[0]!.onPropose = async () =>
      create(ProposeResponseSchema, {
        result: new Uint8Array([0xff, 0xff, 0xff]),
        index: 1n,
        leaderNodeId: nodes[0]!.id,
      });
    const e = await rejection(b.update(1n, create5(1n, "pay-1"), { deadlineMs: Date.now() + 10_000 }));
    expect(e.code).toBe("INTERNAL");
    expect(e.message).toMatch(/^outcome unknown: /);
    expect(e.message).toContain('retrying with the same request_id "pay-1" is safe');
  });

  it("a batch with one undecodable result: that item fails alone, as an unknown outcome; its batch neighbours keep their results", async () => {
    const b = await oneNodeBackend();
    nodes[0]!.onPropose = async (req: ProposeRequest) => {
      const results = req.commands.map(created);
      results[1] = new Uint8Array([0xff, 0xff, 0xff]);
      return create(ProposeResponseSchema, { results, index: 1n, leaderNodeId: nodes[0]!.id });
    };
    const items = [1n, 2n, 3n].map((accountId) => ({ accountId, command: create5(accountId, `r-${accountId}`) }));
    const outcomes = await b.updateMany(items, { deadlineMs: Date.now() + 10_000 });
    expect(outcomes.map((o) => (o instanceof LedgerError ? o.code : o.kind.case))).toEqual([
      "transaction",
      "INTERNAL",
      "transaction",
    ]);
    const failed = outcomes[1] as LedgerError;
    expect(failed.message).toMatch(/^outcome unknown: /);
    expect(failed.message).toContain('retrying with the same request_id "r-2" is safe');
  });
});
