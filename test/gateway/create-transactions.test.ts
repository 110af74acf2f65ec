// CreateTransactions in the public service over the real core in memory: whole-call limits, each
// item validated as CreateTransaction validates it (an invalid item fails alone and is not sent),
// ids derived as CreateTransaction derives them, and each outcome mapped as CreateTransaction
// maps it (core refusals and backend errors as ItemErrors with the gRPC status code's name).

import { create } from "@bufbuild/protobuf";
import { beforeEach, describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { createLogger } from "../../src/base/logger.js";
import { createTransactionsItemsMax, descriptionBytesMax } from "../../src/ledger/limits.js";
import { createLedgerService } from "../../src/gateway/ledger-service.js";
import { transactionLocalIdFromRequestId } from "../../src/gateway/request-ids.js";
import {
  CreateAccountRequestSchema,
  CreateTransactionRequestSchema,
  CreateTransactionsRequestSchema,
  GetAccountRequestSchema,
  TransactionStatus,
  type CreateTransactionRequest,
  type CreateTransactionResult,
  type LedgerService,
} from "../../src/gen/ledger/v1/ledger_pb.js";
import { parseAccountId, parseTransactionId } from "../../src/ledger/ids.js";
import type { HandlerContext, UnaryImpl } from "../../src/transport/grpc-service.js";
import { MemoryBackend } from "./memory-backend.js";

const ctx: HandlerContext = { deadlineMs: 123_456, signal: new AbortController().signal, peer: "test" };

let backend: MemoryBackend;
let service: UnaryImpl<typeof LedgerService>;
let clock: bigint;

beforeEach(() => {
  backend = new MemoryBackend();
  clock = 1_700_000_000_000_000_000n;
  let random = 0x1000n;
  service = createLedgerService(backend, {
    now: () => (clock += 1_000n),
    randomU64: () => (random += 1n),
    logger: createLogger({ name: "test", level: "silent" }),
  });
});

async function newAccount(deposit: bigint): Promise<string> {
  const { account } = await service.createAccount(create(CreateAccountRequestSchema, {}), ctx);
  const id = account!.id;
  if (deposit !== 0n)
    await service.createTransaction(
      create(CreateTransactionRequestSchema, { accountId: id, amount: deposit, settled: true }),
      ctx,
    );
  return id;
}

type ItemFields = { accountId?: string; amount?: bigint; description?: string; settled?: boolean; requestId?: string };
const item = (fields: ItemFields): CreateTransactionRequest =>
  create(CreateTransactionRequestSchema, { amount: 1n, settled: true, ...fields });
const call = (items: CreateTransactionRequest[]) =>
  service.createTransactions(create(CreateTransactionsRequestSchema, { transactions: items }), ctx);

function errorOf(r: CreateTransactionResult | undefined): { code: string; message: string } {
  if (r?.outcome.case !== "error") throw new Error(`expected an item error, got ${String(r?.outcome.case)}`);
  return r.outcome.value;
}

function transactionOf(r: CreateTransactionResult | undefined) {
  if (r?.outcome.case !== "transaction") throw new Error(`expected a transaction, got ${String(r?.outcome.case)}`);
  return r.outcome.value;
}

async function rejection(p: Promise<unknown>): Promise<LedgerError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(LedgerError);
  return e as LedgerError;
}

describe("CreateTransactions", () => {
  it.each([0, createTransactionsItemsMax + 1])(
    "refuses the whole call with %i items, naming transactions and the limit, sending nothing",
    async (n) => {
      const accountId = await newAccount(0n);
      const before = backend.calls.length;
      const e = await rejection(call(Array.from({ length: n }, () => item({ accountId }))));
      expect(e.code).toBe("INVALID_ARGUMENT");
      expect(e.message).toMatch(/^transactions must hold 1 to 1000 items/);
      expect(backend.calls.length).toBe(before);
    },
  );

  it("takes exactly createTransactionsItemsMax items in one backend call, answering each in order", async () => {
    const accountId = await newAccount(0n);
    const { results } = await call(
      Array.from({ length: createTransactionsItemsMax }, (_, i) => item({ accountId, amount: BigInt(i + 1) })),
    );
    expect(results.map((r) => transactionOf(r).amount)).toEqual(
      Array.from({ length: createTransactionsItemsMax }, (_, i) => BigInt(i + 1)),
    );
    expect(backend.calls.filter((c) => c.method === "updateMany")).toHaveLength(1);
  });

  it("fails each invalid item alone with INVALID_ARGUMENT naming transactions[i].field, and sends only the valid ones", async () => {
    const accountId = await newAccount(0n);
    const before = backend.calls.length;
    const { results } = await call([
      item({ accountId, amount: 5n }),
      item({ accountId: "not-hex" }),
      item({ accountId, amount: 0n }),
      item({ accountId, description: "x".repeat(descriptionBytesMax + 1) }),
      item({ accountId, requestId: "r".repeat(65) }),
      item({ accountId, amount: 7n }),
    ]);
    expect(results).toHaveLength(6);
    expect(transactionOf(results[0]).amount).toBe(5n);
    for (const [i, field] of [
      [1, "account_id"],
      [2, "amount"],
      [3, "description"],
      [4, "request_id"],
    ] as const) {
      expect(errorOf(results[i]).code).toBe("INVALID_ARGUMENT");
      expect(errorOf(results[i]).message.startsWith(`transactions[${i}].${field} `), errorOf(results[i]).message).toBe(
        true,
      );
    }
    expect(transactionOf(results[5]).amount).toBe(7n);
    const sent = backend.calls.slice(before);
    expect(sent).toHaveLength(1);
    const only = sent[0];
    if (only?.method !== "updateMany") throw new Error("expected one updateMany");
    expect(only.items.map((i) => i.command.kind.value?.accountId === parseAccountId(accountId, "account_id"))).toEqual([
      true,
      true,
    ]);
    expect(only.options).toEqual({ deadlineMs: ctx.deadlineMs });
  });

  it("sends nothing when every item is invalid", async () => {
    const before = backend.calls.length;
    const { results } = await call([item({ accountId: "x" }), item({ accountId: "y" })]);
    expect(results.map((r) => errorOf(r).code)).toEqual(["INVALID_ARGUMENT", "INVALID_ARGUMENT"]);
    expect(backend.calls.length).toBe(before);
  });

  it("derives ids from request_id as CreateTransaction does: the same request through either call is the same transaction, applied once", async () => {
    const accountId = await newAccount(100n);
    const single = (await service.createTransaction(item({ accountId, amount: 10n, requestId: "pay-1" }), ctx))
      .transaction!;
    const { results } = await call([
      item({ accountId, amount: 10n, requestId: "pay-1" }),
      item({ accountId, amount: 20n, requestId: "pay-2" }),
    ]);
    expect(transactionOf(results[0])).toEqual(single);
    expect(parseTransactionId(transactionOf(results[1]).id, "id").localId).toBe(
      transactionLocalIdFromRequestId(parseAccountId(accountId, "account_id"), "pay-2"),
    );
    const again = await call([item({ accountId, amount: 20n, requestId: "pay-2" })]);
    expect(transactionOf(again.results[0])).toEqual(transactionOf(results[1]));
    const { account } = await service.getAccount(create(GetAccountRequestSchema, { accountId }), ctx);
    expect(account!.settledBalance).toBe(130n);
  });

  it("maps core outcomes per item: INSUFFICIENT_FUNDS is a transaction, an unknown account NOT_FOUND, a reused request_id with other content what CreateTransaction fails with", async () => {
    const accountId = await newAccount(10n);
    const unknown = "00000000000000ff";
    await service.createTransaction(item({ accountId, amount: 1n, requestId: "r" }), ctx);
    const { results } = await call([
      item({ accountId, amount: -50n }),
      item({ accountId: unknown }),
      item({ accountId, amount: 2n, requestId: "r" }),
      item({ accountId, amount: -5n }),
    ]);
    expect(transactionOf(results[0]).status).toBe(TransactionStatus.INSUFFICIENT_FUNDS);
    expect(errorOf(results[1]).code).toBe("NOT_FOUND");
    const unary = await rejection(service.createTransaction(item({ accountId, amount: 2n, requestId: "r" }), ctx));
    expect(errorOf(results[2])).toMatchObject({ code: unary.code, message: unary.message });
    expect(transactionOf(results[3]).status).toBe(TransactionStatus.SETTLED);
  });

  it("gives a backend error to its item only, by gRPC status name: NOT_LEADER becomes UNAVAILABLE, DEADLINE_EXCEEDED stays", async () => {
    const accountId = await newAccount(0n);
    backend.manyOverride = (_item, position) =>
      position === 0
        ? new LedgerError("NOT_LEADER", "not the leader")
        : position === 1
          ? new LedgerError("DEADLINE_EXCEEDED", "outcome unknown: retry with the same request_id")
          : undefined;
    const { results } = await call([item({ accountId }), item({ accountId }), item({ accountId, amount: 3n })]);
    expect(errorOf(results[0])).toEqual({
      $typeName: "ledger.v1.ItemError",
      code: "UNAVAILABLE",
      message: "not the leader",
    });
    expect(errorOf(results[1]).code).toBe("DEADLINE_EXCEEDED");
    expect(errorOf(results[1]).message).toContain("same request_id");
    expect(transactionOf(results[2]).amount).toBe(3n);
  });

  it("stamps every item of one call with the same time", async () => {
    const accountId = await newAccount(0n);
    const { results } = await call([item({ accountId }), item({ accountId })]);
    expect(transactionOf(results[0]).createdAt).toBe(transactionOf(results[1]).createdAt);
  });
});
