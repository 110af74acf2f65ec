// LedgerClient.createTransactions against a scripted server: what it sends (one request item per
// input, defaults filled as createTransaction fills them), one outcome per item in order, and a
// malformed reply (wrong count, an empty result) as INTERNAL.

import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { LedgerClient } from "../../src/client/ledger-client.js";
import {
  CreateTransactionRequestSchema,
  CreateTransactionResultSchema,
  CreateTransactionsResponseSchema,
  ItemErrorSchema,
  TransactionSchema,
  TransactionStatus,
  type CreateTransactionsRequest,
} from "../../src/gen/ledger/v1/ledger_pb.js";
import { ScriptedServer } from "./scripted-server.js";

const accountId = "0123456789abcdef";
let server: ScriptedServer;
let client: LedgerClient;

beforeAll(async () => {
  server = await ScriptedServer.start();
  client = LedgerClient.connect(server.address, { deadlineMs: 5_000, tls: "insecure" });
});

afterAll(() => {
  client.close();
  server.stop();
});

beforeEach(() => server.reset());

const transaction = (n: number) =>
  create(TransactionSchema, {
    id: `${accountId}${n.toString(16).padStart(16, "0")}`,
    amount: BigInt(n),
    status: TransactionStatus.SETTLED,
  });

async function failure(promise: Promise<unknown>): Promise<LedgerError> {
  const e = await promise.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(LedgerError);
  return e as LedgerError;
}

describe("LedgerClient.createTransactions", () => {
  it("sends one item per input with createTransaction's defaults and returns each item's transaction or error, in order", async () => {
    server.handlers.createTransactions = async () =>
      create(CreateTransactionsResponseSchema, {
        results: [
          create(CreateTransactionResultSchema, { outcome: { case: "transaction", value: transaction(1) } }),
          create(CreateTransactionResultSchema, {
            outcome: {
              case: "error",
              value: create(ItemErrorSchema, { code: "NOT_FOUND", message: "account not found" }),
            },
          }),
        ],
      });
    const outcomes = await client.createTransactions([
      { accountId, amount: 1n },
      { accountId: "00000000000000ff", amount: -2n, description: "d", settled: true, requestId: "r" },
    ]);
    expect(outcomes).toEqual([
      { transaction: transaction(1) },
      { error: { code: "NOT_FOUND", message: "account not found" } },
    ]);
    const sent = server.requests[0]?.request as CreateTransactionsRequest;
    expect(server.requests.map((r) => r.method)).toEqual(["createTransactions"]);
    expect(sent.transactions).toEqual([
      create(CreateTransactionRequestSchema, { accountId, amount: 1n, description: "", settled: false, requestId: "" }),
      create(CreateTransactionRequestSchema, {
        accountId: "00000000000000ff",
        amount: -2n,
        description: "d",
        settled: true,
        requestId: "r",
      }),
    ]);
  });

  it("rejects with INTERNAL when the reply's results do not match the items one for one", async () => {
    server.handlers.createTransactions = async () => create(CreateTransactionsResponseSchema, { results: [] });
    const e = await failure(client.createTransactions([{ accountId, amount: 1n }]));
    expect(e.code).toBe("INTERNAL");
    expect(e.message).toContain("1 items with 0 results");
  });

  it("rejects with INTERNAL when a result has neither a transaction nor an error", async () => {
    server.handlers.createTransactions = async () =>
      create(CreateTransactionsResponseSchema, { results: [create(CreateTransactionResultSchema, {})] });
    const e = await failure(client.createTransactions([{ accountId, amount: 1n }]));
    expect(e.code).toBe("INTERNAL");
  });

  it("rejects with the server's error when the whole call fails", async () => {
    server.handlers.createTransactions = async () =>
      Promise.reject(new LedgerError("INVALID_ARGUMENT", "transactions must hold 1 to 1000 items"));
    const e = await failure(client.createTransactions([]));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toContain("transactions");
  });
});
