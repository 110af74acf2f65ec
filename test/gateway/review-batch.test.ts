// Review of the batched path (issue 6), public service side: defects found in CreateTransactions.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CommandResultSchema, CommandSchema, TransactionRecordSchema } from "../../src/gen/ledger/core/v1/core_pb.js";
import { ProposeResponseSchema, type ProposeRequest } from "../../src/gen/ledger/node/v1/node_pb.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import type { ClusterConfig } from "../../src/cluster/config.js";
import { Client, credentials, type ServiceError } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";
import { startLedgerServer, type LedgerServer } from "../../src/gateway/grpc-server.js";
import {
  CreateAccountRequestSchema,
  CreateAccountResponseSchema,
  CreateTransactionRequestSchema,
  CreateTransactionsRequestSchema,
  CreateTransactionsResponseSchema,
  type CreateTransactionsResponse,
} from "../../src/gen/ledger/v1/ledger_pb.js";
import { ClusterBackend } from "../../src/gateway/cluster-backend.js";
import { createTransactionCommand } from "../../src/gateway/core-requests.js";
import { shardForAccount } from "../../src/cluster/shard-map.js";
import { LedgerError } from "../../src/base/errors.js";
import type { UpdateItem } from "../../src/ledger/backend.js";
import { MemoryBackend } from "./memory-backend.js";
import { corruptUtf8, rawLedgerCall } from "./raw-wire.js";
import { fakeClusterConfig, hang, startFakeNodes, stopNodes, type FakeNode } from "./fake-nodes.js";
import { insecureTransport } from "../../src/security/transport-security.js";

let server: LedgerServer | undefined;
let client: Client | undefined;

let nodes: FakeNode[] = [];
let backends: ClusterBackend[] = [];

afterEach(async () => {
  await Promise.all(backends.map((b) => b.close()));
  backends = [];
  stopNodes(nodes);
  nodes = [];
  client?.close();
  client = undefined;
  await server?.shutdown(1_000);
  server = undefined;
});

async function startServer(): Promise<string> {
  let random = 0x5000n;
  server = await startLedgerServer({
    security: insecureTransport(),
    apiKeys: undefined,
    backend: new MemoryBackend(),
    host: "127.0.0.1",
    port: 0,
    logger: createLogger({ name: "review-batch", level: "silent" }),
    deps: {
      now: () => 1_700_000_000_000_000_000n,
      randomU64: () => (random += 1n),
      logger: createLogger({ name: "review-batch", level: "silent" }),
    },
  });
  client = new Client(server.address, credentials.createInsecure());
  return server.address;
}

function rawCall<T>(method: string, bytes: Uint8Array, decode: (b: Buffer) => T): Promise<T> {
  return rawLedgerCall(client!, method, bytes, decode);
}

const corrupt = corruptUtf8;

describe("review: CreateTransactions on the wire", () => {
  // DEFECT: one item whose description (or request_id) is not valid UTF-8 fails the WHOLE call,
  // as INTERNAL "Error deserializing request", instead of failing that item alone.
  // At fault: src/transport/grpc-service.ts:70-100 (decodeRequest / findInvalidUtf8Field, wired
  // in as requestDeserialize at :54): the request is decoded as a whole, and the UTF-8 scan looks only at top-level string fields, so
  // for CreateTransactionsRequest (strings inside the repeated message) it names no field and
  // throws from grpc-js's requestDeserialize, which grpc-js turns into INTERNAL for the call.
  // The contract (proto/ledger/v1/ledger.proto: "A malformed item fails alone; only a request
  // that is malformed as a whole ... fails the call") and the review brief ("a whole-call error
  // only for whole-call problems", fields named like transactions[1].description) are broken.
  // Expected: item 0 is created; item 1 is an ItemError INVALID_ARGUMENT whose message starts
  // with "transactions[1].description"; item 2 is created.
  it("an item with invalid UTF-8 in its description fails alone, naming transactions[1].description; the other items are created", async () => {
    await startServer();
    const account = await rawCall(
      "CreateAccount",
      toBinary(CreateAccountRequestSchema, create(CreateAccountRequestSchema, {})),
      (b) => fromBinary(CreateAccountResponseSchema, b),
    );
    const accountId = account.account!.id;
    const request = create(CreateTransactionsRequestSchema, {
      transactions: [
        create(CreateTransactionRequestSchema, { accountId, amount: 5n, settled: true, requestId: "ok-0" }),
        create(CreateTransactionRequestSchema, {
          accountId,
          amount: 6n,
          settled: true,
          requestId: "bad-1",
          description: "MARKERMARKER",
        }),
        create(CreateTransactionRequestSchema, { accountId, amount: 7n, settled: true, requestId: "ok-2" }),
      ],
    });
    const bytes = corrupt(toBinary(CreateTransactionsRequestSchema, request), "MARKERMARKER");

    const outcome = await rawCall("CreateTransactions", bytes, (b) =>
      fromBinary(CreateTransactionsResponseSchema, b),
    ).then(
      (response: CreateTransactionsResponse) => ({ response }),
      (e: ServiceError) => ({ wholeCallError: `${e.code}: ${e.details}` }),
    );
    expect(outcome).not.toHaveProperty("wholeCallError");
    const { results } = (outcome as { response: CreateTransactionsResponse }).response;
    expect(results.map((r) => r.outcome.case)).toEqual(["transaction", "error", "transaction"]);
    const error = results[1]!.outcome.value as { code: string; message: string };
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(/^transactions\[1\]\.description /);
  });
});

describe("review: ClusterBackend.updateMany error contract", () => {
  // DEFECT: when the gateway closes (shutdown) while a batch's Propose is in flight on a node,
  // every item fails with UNAVAILABLE "the gateway is shutting down" and NOT as an unknown
  // outcome with the "retrying with the same request_id ... is safe" advice, although the batch
  // reached the node and may be applied. At fault: src/gateway/shard-caller.ts:144
  // (`this.throwIfClosed(call, log)` right after the failed attempt) runs BEFORE line 148 sets
  // log.mayHaveApplied for that attempt, so throwIfClosed sees mayHaveApplied=false and omits
  // "outcome unknown"; and it bypasses onDeadline/onUnknownOutcome, so updateMany's per-item
  // wording (cluster-backend.ts proposeShardBatch `perItem`) is never used. (The same path
  // serves update(); the loop-top check at :126 likewise drops the per-item wording.) Expected: each item's error says the outcome is unknown and carries its
  // own request_id advice, as updateUnknownOutcomeError words it.
  it("a batch in flight when the gateway closes: each item's error says outcome unknown with its request_id advice", async () => {
    nodes = await startFakeNodes(1);
    const config = fakeClusterConfig(nodes, 1);
    const backend = new ClusterBackend({
      config,
      security: insecureTransport(),
      logger: createLogger({ name: "review-batch", level: "silent" }),
      random: () => 0.5,
    });
    backends.push(backend);
    let received!: () => void;
    const arrived = new Promise<void>((resolve) => (received = resolve));
    nodes[0]!.onPropose = (_req, ctx) => {
      received();
      return hang(ctx);
    };
    const items: UpdateItem[] = [1n, 2n].map((accountId) => ({
      accountId,
      command: createTransactionCommand(1_700_000_000_000_000_000n, {
        accountId,
        localId: accountId + 100n,
        amount: 5n,
        description: "",
        settled: true,
        requestId: `pay-${accountId}`,
      }),
    }));
    expect(items.every((i) => shardForAccount(config, i.accountId).id === "shard-00")).toBe(true);
    const pending = backend.updateMany(items, { deadlineMs: Date.now() + 20_000 });
    await arrived; // the batch reached the node: it may be appended and applied
    await backend.close();
    const outcomes = await pending;
    for (const [i, o] of outcomes.entries()) {
      expect(o).toBeInstanceOf(LedgerError);
      const e = o as LedgerError;
      expect(e.message, e.message).toMatch(/outcome (is )?unknown/);
      expect(e.message, e.message).toContain(`retrying with the same request_id "pay-${i + 1}" is safe`);
    }
  });
});

/** Distinct account ids whose shard is config.shards[index]. */
function accountsOnShard(config: ClusterConfig, index: number, count: number): bigint[] {
  const out: bigint[] = [];
  for (let id = 1n; out.length < count; id++)
    if (shardForAccount(config, id).id === config.shards[index]!.id) out.push(id);
  return out;
}

/** What a node answers a batch with: every command created (a settled echo of it). */
function answerBatch(req: ProposeRequest, leaderNodeId: string) {
  const results = req.commands.map((bytes) => {
    const c = fromBinary(CommandSchema, bytes);
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
  });
  return create(ProposeResponseSchema, { results, index: 1n, leaderNodeId });
}

describe("review: ClusterBackend.updateMany and a node's malformed batch answer", () => {
  // DEFECT: one undecodable result in a shard's batch answer rejects the whole updateMany with a
  // non-LedgerError (protobuf's decode error), so the public CreateTransactions call fails as a
  // whole with INTERNAL "internal error" and the items of the OTHER shards, which were applied,
  // lose their results. At fault: src/gateway/cluster-backend.ts:169
  // (`fromBinary(CommandResultSchema, results[k]!)` outside any try) and :131 (Promise.all lets
  // one shard's throw discard every outcome). Expected: the other shard's item keeps its
  // transaction; the item whose result cannot be decoded gets a LedgerError of its own (its
  // batch WAS applied, so its outcome is unknown to the gateway), and updateMany resolves.
  it("an undecodable result from one shard fails only that item; the other shard's item keeps its result", async () => {
    nodes = await startFakeNodes(2);
    const config = fakeClusterConfig(nodes, 2);
    const backend = new ClusterBackend({
      config,
      security: insecureTransport(),
      logger: createLogger({ name: "review-batch", level: "silent" }),
      random: () => 0.5,
    });
    backends.push(backend);
    for (const node of nodes) {
      node.onPropose = async (req) => {
        const answer = answerBatch(req, node.id);
        if (req.shardId === config.shards[0]!.id) answer.results[0] = new Uint8Array([0xff, 0xff, 0xff]);
        return answer;
      };
    }
    const [a0] = accountsOnShard(config, 0, 1);
    const [a1] = accountsOnShard(config, 1, 1);
    const items: UpdateItem[] = [a0!, a1!].map((accountId, i) => ({
      accountId,
      command: createTransactionCommand(1_700_000_000_000_000_000n, {
        accountId,
        localId: BigInt(i + 1),
        amount: 5n,
        description: "",
        settled: true,
        requestId: `r-${i}`,
      }),
    }));
    const settled = await backend.updateMany(items, { deadlineMs: Date.now() + 10_000 }).then(
      (outcomes) => ({ outcomes }),
      (e: unknown) => ({ rejected: `${e instanceof LedgerError ? "LedgerError" : "non-LedgerError"}: ${String(e)}` }),
    );
    expect(settled).not.toHaveProperty("rejected");
    const { outcomes } = settled as { outcomes: Awaited<ReturnType<ClusterBackend["updateMany"]>> };
    expect(outcomes[0]).toBeInstanceOf(LedgerError);
    const second = outcomes[1];
    expect(second instanceof LedgerError ? second.message : second?.kind.case).toBe("transaction");
  });

  // DEFECT: a batch answer whose result count does not match the batch gives each item INTERNAL
  // "answered a batch of 2 commands with 1 results" with no word on the outcome, although the
  // node answered, i.e. the entry WAS applied: the client is not told its items may have been
  // applied nor that retrying with the same request_id is safe. At fault:
  // src/gateway/cluster-backend.ts:163-166. Expected: each item's error says its outcome is
  // unknown and carries its own request_id advice (as updateUnknownOutcomeError words it).
  it("a batch answer with the wrong number of results: each item's error says its outcome is unknown, with its request_id advice", async () => {
    nodes = await startFakeNodes(1);
    const config = fakeClusterConfig(nodes, 1);
    const backend = new ClusterBackend({
      config,
      security: insecureTransport(),
      logger: createLogger({ name: "review-batch", level: "silent" }),
      random: () => 0.5,
    });
    backends.push(backend);
    nodes[0]!.onPropose = async (req) => {
      const answer = answerBatch(req, nodes[0]!.id);
      answer.results.pop();
      return answer;
    };
    const items: UpdateItem[] = accountsOnShard(config, 0, 2).map((accountId, i) => ({
      accountId,
      command: createTransactionCommand(1_700_000_000_000_000_000n, {
        accountId,
        localId: BigInt(i + 1),
        amount: 5n,
        description: "",
        settled: true,
        requestId: `r-${i}`,
      }),
    }));
    const outcomes = await backend.updateMany(items, { deadlineMs: Date.now() + 10_000 });
    for (const [i, o] of outcomes.entries()) {
      expect(o).toBeInstanceOf(LedgerError);
      const e = o as LedgerError;
      expect(e.message, e.message).toMatch(/outcome (is )?unknown/);
      expect(e.message, e.message).toContain(`retrying with the same request_id "r-${i}" is safe`);
    }
  });
});
