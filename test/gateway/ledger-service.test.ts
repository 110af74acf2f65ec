// The public service over the real core held in memory: validation (each error names its
// field and never reaches the backend), ids derived from request ids, error mapping, paging.

import { beforeEach, describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import {
  CancelTransactionRequestSchema,
  CreateAccountRequestSchema,
  CreateTransactionRequestSchema,
  GetAccountRequestSchema,
  GetTransactionRequestSchema,
  ListTransactionsRequestSchema,
  SettleTransactionRequestSchema,
  TransactionStatus,
  type LedgerService,
} from "../../src/gen/ledger/v1/ledger_pb.js";
import { CommandResultSchema, CoreErrorCode } from "../../src/gen/ledger/core/v1/core_pb.js";
import { createLedgerService } from "../../src/gateway/ledger-service.js";
import { accountIdFromRequestId, transactionLocalIdFromRequestId } from "../../src/gateway/request-ids.js";
import { encodePageToken } from "../../src/gateway/page-token.js";
import { createLogger } from "../../src/base/logger.js";
import { LedgerError, type ErrorCode } from "../../src/base/errors.js";
import { AssertionError } from "../../src/base/assert.js";
import { formatAccountId, parseTransactionId } from "../../src/ledger/ids.js";
import type { HandlerContext, UnaryImpl } from "../../src/transport/grpc-service.js";
import { MemoryBackend } from "./memory-backend.js";

const ctx: HandlerContext = { deadlineMs: undefined, signal: new AbortController().signal, peer: "test" };
const int64Max = (1n << 63n) - 1n;

let backend: MemoryBackend;
let service: UnaryImpl<typeof LedgerService>;
let clock: bigint;
let nextRandom: bigint;

beforeEach(() => {
  backend = new MemoryBackend();
  clock = 1_700_000_000_000_000_000n;
  nextRandom = 0x1000n;
  service = createLedgerService(backend, {
    now: () => (clock += 1_000n),
    randomU64: () => (nextRandom += 1n),
    logger: createLogger({ name: "test", level: "silent" }),
  });
});

async function newAccount(requestId = ""): Promise<string> {
  const { account } = await service.createAccount(create(CreateAccountRequestSchema, { requestId }), ctx);
  return account!.id;
}

async function addTransaction(accountId: string, amount: bigint, settled: boolean, requestId = "", description = "") {
  const request = create(CreateTransactionRequestSchema, { accountId, amount, settled, requestId, description });
  return (await service.createTransaction(request, ctx)).transaction!;
}

async function balances(accountId: string): Promise<[bigint, bigint]> {
  const { account } = await service.getAccount(create(GetAccountRequestSchema, { accountId }), ctx);
  return [account!.availableBalance, account!.settledBalance];
}

/** Rejects with a LedgerError of `code` whose message starts with `field`. */
async function expectRejected(call: Promise<unknown>, code: ErrorCode, field?: string): Promise<LedgerError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LedgerError);
  const ledgerError = error as LedgerError;
  expect(ledgerError.code).toBe(code);
  if (field !== undefined) expect(ledgerError.message.startsWith(`${field} `)).toBe(true);
  return ledgerError;
}

describe("accounts", () => {
  it("creates an account with a random id, zero balances and the clock's time", async () => {
    const { account } = await service.createAccount(create(CreateAccountRequestSchema), ctx);
    expect(account!.id).toBe(formatAccountId(0x1001n));
    expect([account!.availableBalance, account!.settledBalance]).toEqual([0n, 0n]);
    expect(account!.createdAt).toBe(clock);
    expect(account!.updatedAt).toBe(clock);
    expect(backend.calls[0]).toMatchObject({ method: "update", accountId: 0x1001n });
  });

  it("derives the account id from request_id and returns the same account on a retry", async () => {
    const first = await newAccount("signup-42");
    const second = await newAccount("signup-42");
    expect(first).toBe(formatAccountId(accountIdFromRequestId("signup-42")));
    expect(second).toBe(first);
    expect(await newAccount("signup-43")).not.toBe(first);
  });

  it("returns NOT_FOUND for an unknown account", async () => {
    await expectRejected(
      service.getAccount(create(GetAccountRequestSchema, { accountId: "00000000000000ab" }), ctx),
      "NOT_FOUND",
    );
  });

  it("passes the caller's deadline to the backend", async () => {
    const deadlineMs = Date.now() + 1234;
    await service.createAccount(create(CreateAccountRequestSchema), { ...ctx, deadlineMs });
    expect(backend.calls[0]?.options?.deadlineMs).toBe(deadlineMs);
  });
});

describe("transactions follow the ledger rules through the service", () => {
  it("scenario 1: (0,0), then topup +100 settled and purchase -10 pending (90,100), then settle (90,90)", async () => {
    const id = await newAccount();
    expect(await balances(id)).toEqual([0n, 0n]);
    await addTransaction(id, 100n, true);
    const purchase = await addTransaction(id, -10n, false, "", "coffee");
    expect(purchase.status).toBe(TransactionStatus.PENDING);
    expect(purchase.description).toBe("coffee");
    expect(await balances(id)).toEqual([90n, 100n]);
    const settled = await service.settleTransaction(
      create(SettleTransactionRequestSchema, { transactionId: purchase.id }),
      ctx,
    );
    expect(settled.transaction!.status).toBe(TransactionStatus.SETTLED);
    expect(await balances(id)).toEqual([90n, 90n]);
  });

  it("gives each settle and cancel call its own non-zero attempt id (a retry inside the backend reuses it)", async () => {
    const id = await newAccount();
    const first = await addTransaction(id, 5n, false);
    const second = await addTransaction(id, 6n, false);
    await service.settleTransaction(create(SettleTransactionRequestSchema, { transactionId: first.id }), ctx);
    await service.cancelTransaction(create(CancelTransactionRequestSchema, { transactionId: second.id }), ctx);
    const attemptIds = backend.calls.flatMap((c) => {
      if (c.method !== "update") return [];
      const { kind } = c.command;
      return kind.case === "settleTransaction" || kind.case === "cancelTransaction" ? [kind.value.attemptId] : [];
    });
    expect(attemptIds).toHaveLength(2);
    expect(attemptIds.every((a) => a !== 0n)).toBe(true);
    expect(new Set(attemptIds).size).toBe(2);
  });

  it("records an unaffordable purchase as INSUFFICIENT_FUNDS and changes nothing", async () => {
    const id = await newAccount();
    const t = await addTransaction(id, -1000n, true);
    expect(t.status).toBe(TransactionStatus.INSUFFICIENT_FUNDS);
    expect(await balances(id)).toEqual([0n, 0n]);
  });

  it("returns a created transaction by id with an id that starts with its account id", async () => {
    const id = await newAccount();
    const t = await addTransaction(id, 5n, false);
    expect(t.id.startsWith(id)).toBe(true);
    const got = await service.getTransaction(create(GetTransactionRequestSchema, { transactionId: t.id }), ctx);
    expect(got.transaction).toEqual(t);
  });

  it("returns NOT_FOUND for an unknown transaction (existing account) and for settling one", async () => {
    const id = await newAccount();
    const transactionId = `${id}00000000000000ff`;
    await expectRejected(
      service.getTransaction(create(GetTransactionRequestSchema, { transactionId }), ctx),
      "NOT_FOUND",
    );
    await expectRejected(
      service.settleTransaction(create(SettleTransactionRequestSchema, { transactionId }), ctx),
      "NOT_FOUND",
    );
  });

  it("returns FAILED_PRECONDITION with the core's message for settling or cancelling a non-pending transaction", async () => {
    const id = await newAccount();
    const t = await addTransaction(id, 5n, true);
    const settle = await expectRejected(
      service.settleTransaction(create(SettleTransactionRequestSchema, { transactionId: t.id }), ctx),
      "FAILED_PRECONDITION",
    );
    expect(settle.message).toContain(t.id);
    await expectRejected(
      service.cancelTransaction(create(CancelTransactionRequestSchema, { transactionId: t.id }), ctx),
      "FAILED_PRECONDITION",
    );
  });

  it("cancels a pending purchase and restores the available balance", async () => {
    const id = await newAccount();
    await addTransaction(id, 50n, true);
    const t = await addTransaction(id, -20n, false);
    expect(await balances(id)).toEqual([30n, 50n]);
    const { transaction } = await service.cancelTransaction(
      create(CancelTransactionRequestSchema, { transactionId: t.id }),
      ctx,
    );
    expect(transaction!.status).toBe(TransactionStatus.CANCELLED);
    expect(await balances(id)).toEqual([50n, 50n]);
  });

  it("returns OUT_OF_RANGE when a topup would overflow int64", async () => {
    const id = await newAccount();
    await addTransaction(id, int64Max, true);
    await expectRejected(addTransaction(id, 1n, true), "OUT_OF_RANGE");
    expect(await balances(id)).toEqual([int64Max, int64Max]);
  });
});

describe("idempotent transaction creates", () => {
  it("derives the local id from account and request_id; a retry returns the original and moves money once", async () => {
    const id = await newAccount();
    const first = await addTransaction(id, 30n, true, "order-1", "books");
    const accountId = BigInt(`0x${id}`);
    expect(parseTransactionId(first.id, "id")).toEqual({
      accountId,
      localId: transactionLocalIdFromRequestId(accountId, "order-1"),
    });
    const again = await addTransaction(id, 30n, true, "order-1", "books");
    expect(again).toEqual(first);
    expect(await balances(id)).toEqual([30n, 30n]);
  });

  it("scopes request ids to the account: the same request_id on two accounts makes two transactions", async () => {
    const a = await newAccount();
    const b = await newAccount();
    const ta = await addTransaction(a, 1n, true, "same");
    const tb = await addTransaction(b, 1n, true, "same");
    expect(ta.id.slice(16)).not.toBe(tb.id.slice(16));
    expect(await balances(b)).toEqual([1n, 1n]);
  });

  it("refuses a reused request_id with different content with FAILED_PRECONDITION", async () => {
    const id = await newAccount();
    await addTransaction(id, 30n, true, "order-2");
    const e = await expectRejected(addTransaction(id, 31n, true, "order-2"), "FAILED_PRECONDITION");
    expect(e.message).toContain("request_id");
    await expectRejected(addTransaction(id, 30n, false, "order-2"), "FAILED_PRECONDITION");
    await expectRejected(addTransaction(id, 30n, true, "order-2", "other text"), "FAILED_PRECONDITION");
    expect(await balances(id)).toEqual([30n, 30n]);
  });
});

describe("invalid input is rejected with INVALID_ARGUMENT naming the field, before the backend", () => {
  const badAccountIds = [
    "",
    "abc",
    "00000000000000000",
    "000000000000000",
    "00000000000000AB",
    "00000000000000xz",
    " 0000000000000ab",
  ];
  const badTransactionIds = ["", "0".repeat(31), "0".repeat(33), "A".repeat(32), "g".repeat(32)];

  it.each(badAccountIds)("account_id %j in GetAccount, CreateTransaction and ListTransactions", async (accountId) => {
    await expectRejected(
      service.getAccount(create(GetAccountRequestSchema, { accountId }), ctx),
      "INVALID_ARGUMENT",
      "account_id",
    );
    await expectRejected(addTransaction(accountId, 1n, true), "INVALID_ARGUMENT", "account_id");
    await expectRejected(
      service.listTransactions(create(ListTransactionsRequestSchema, { accountId }), ctx),
      "INVALID_ARGUMENT",
      "account_id",
    );
    expect(backend.calls).toEqual([]);
  });

  it.each(badTransactionIds)("transaction_id %j in Get, Settle and Cancel", async (transactionId) => {
    await expectRejected(
      service.getTransaction(create(GetTransactionRequestSchema, { transactionId }), ctx),
      "INVALID_ARGUMENT",
      "transaction_id",
    );
    await expectRejected(
      service.settleTransaction(create(SettleTransactionRequestSchema, { transactionId }), ctx),
      "INVALID_ARGUMENT",
      "transaction_id",
    );
    await expectRejected(
      service.cancelTransaction(create(CancelTransactionRequestSchema, { transactionId }), ctx),
      "INVALID_ARGUMENT",
      "transaction_id",
    );
    expect(backend.calls).toEqual([]);
  });

  it("amount 0, and an amount outside int64 from an in-process caller", async () => {
    const id = "00000000000000ab";
    await expectRejected(addTransaction(id, 0n, true), "INVALID_ARGUMENT", "amount");
    await expectRejected(addTransaction(id, int64Max + 1n, true), "INVALID_ARGUMENT", "amount");
    expect(backend.calls).toEqual([]);
  });

  it("a description over 256 UTF-8 bytes even when under 256 characters; exactly 256 bytes is accepted", async () => {
    const id = await newAccount();
    const calls = backend.calls.length;
    await expectRejected(addTransaction(id, 1n, true, "", "é".repeat(129)), "INVALID_ARGUMENT", "description"); // 129 chars, 258 bytes
    await expectRejected(addTransaction(id, 1n, true, "", "x".repeat(257)), "INVALID_ARGUMENT", "description");
    expect(backend.calls.length).toBe(calls);
    const ok = await addTransaction(id, 1n, true, "", "é".repeat(128));
    expect(ok.description).toBe("é".repeat(128));
  });

  it("a description or request_id that is not well-formed (lone surrogate)", async () => {
    const id = await newAccount();
    await expectRejected(addTransaction(id, 1n, true, "", "ok\uD800"), "INVALID_ARGUMENT", "description");
    await expectRejected(addTransaction(id, 1n, true, "\uDC00r"), "INVALID_ARGUMENT", "request_id");
    await expectRejected(
      service.createAccount(create(CreateAccountRequestSchema, { requestId: "\uD83D" }), ctx),
      "INVALID_ARGUMENT",
      "request_id",
    );
  });

  it("a request_id over 64 characters; 64 characters (counted as code points) is accepted", async () => {
    await expectRejected(
      service.createAccount(create(CreateAccountRequestSchema, { requestId: "r".repeat(65) }), ctx),
      "INVALID_ARGUMENT",
      "request_id",
    );
    const id = await newAccount();
    await expectRejected(addTransaction(id, 1n, true, "r".repeat(65)), "INVALID_ARGUMENT", "request_id");
    await expectRejected(addTransaction(id, 1n, true, "😀".repeat(65)), "INVALID_ARGUMENT", "request_id");
    expect((await addTransaction(id, 1n, true, "😀".repeat(64))).amount).toBe(1n);
    expect(await newAccount("r".repeat(64))).toMatch(/^[0-9a-f]{16}$/);
  });

  it.each([-1, 1001, 1_000_000])("page_size %d", async (pageSize) => {
    const request = create(ListTransactionsRequestSchema, { accountId: "00000000000000ab", pageSize });
    await expectRejected(service.listTransactions(request, ctx), "INVALID_ARGUMENT", "page_size");
    expect(backend.calls).toEqual([]);
  });
});

describe("ListTransactions", () => {
  async function listAll(accountId: string, pageSize: number): Promise<{ ids: string[]; pages: number[] }> {
    const ids: string[] = [];
    const pages: number[] = [];
    let pageToken = "";
    do {
      const page = await service.listTransactions(
        create(ListTransactionsRequestSchema, { accountId, pageSize, pageToken }),
        ctx,
      );
      pages.push(page.transactions.length);
      ids.push(...page.transactions.map((t) => t.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    return { ids, pages };
  }

  it("pages through transactions in creation order with an empty token on the last page", async () => {
    const id = await newAccount();
    const created: string[] = [];
    for (let i = 1; i <= 7; i++) created.push((await addTransaction(id, BigInt(i), i % 2 === 0)).id);
    expect(await listAll(id, 3)).toEqual({ ids: created, pages: [3, 3, 1] });
    expect(await listAll(id, 7)).toEqual({ ids: created, pages: [7] });
    expect(await listAll(id, 1000)).toEqual({ ids: created, pages: [7] });
  });

  it("uses 100 for page_size 0 and allows 1000", async () => {
    const id = await newAccount();
    await service.listTransactions(create(ListTransactionsRequestSchema, { accountId: id, pageSize: 0 }), ctx);
    await service.listTransactions(create(ListTransactionsRequestSchema, { accountId: id, pageSize: 1000 }), ctx);
    const limits = backend.calls.flatMap((c) =>
      c.method === "query" && c.query.kind.case === "listTransactions" ? [c.query.kind.value.limit] : [],
    );
    expect(limits).toEqual([100, 1000]);
  });

  it("returns an empty page for an account with no transactions, and NOT_FOUND for an unknown account", async () => {
    const id = await newAccount();
    const page = await service.listTransactions(create(ListTransactionsRequestSchema, { accountId: id }), ctx);
    expect(page.transactions).toEqual([]);
    expect(page.nextPageToken).toBe("");
    await expectRejected(
      service.listTransactions(create(ListTransactionsRequestSchema, { accountId: "00000000000000ab" }), ctx),
      "NOT_FOUND",
    );
  });

  it("rejects a page token issued for another account, a malformed one and a tampered one", async () => {
    const a = await newAccount();
    const b = await newAccount();
    for (let i = 0; i < 3; i++) await addTransaction(a, 1n, true);
    const first = await service.listTransactions(
      create(ListTransactionsRequestSchema, { accountId: a, pageSize: 1 }),
      ctx,
    );
    const token = first.nextPageToken;
    expect(token).not.toBe("");
    const list = (accountId: string, pageToken: string) =>
      service.listTransactions(create(ListTransactionsRequestSchema, { accountId, pageSize: 1, pageToken }), ctx);
    const e = await expectRejected(list(b, token), "INVALID_ARGUMENT", "page_token");
    expect(e.message).toContain("another account");
    for (const bad of [
      "x",
      `${token}A`,
      token.slice(1),
      "!".repeat(token.length),
      token.replace(/.$/, (c) => (c === "A" ? "B" : "A")),
    ]) {
      await expectRejected(list(a, bad), "INVALID_ARGUMENT", "page_token");
    }
    expect((await list(a, token)).transactions).toHaveLength(1);
  });

  it("accepts a token built by the token module for the same account (tokens carry no server state)", async () => {
    const id = await newAccount();
    for (let i = 0; i < 3; i++) await addTransaction(id, BigInt(i + 1), true);
    const pageToken = encodePageToken({ accountId: BigInt(`0x${id}`), afterSeq: 2n });
    const page = await service.listTransactions(
      create(ListTransactionsRequestSchema, { accountId: id, pageToken }),
      ctx,
    );
    expect(page.transactions.map((t) => t.amount)).toEqual([3n]);
  });
});

describe("backend answers", () => {
  it("passes the core's ALREADY_EXISTS refusal through with its message", async () => {
    backend.override = () =>
      create(CommandResultSchema, {
        kind: { case: "error", value: { code: CoreErrorCode.ALREADY_EXISTS, message: "account x already exists" } },
      });
    const e = await expectRejected(service.createAccount(create(CreateAccountRequestSchema), ctx), "ALREADY_EXISTS");
    expect(e.message).toBe("account x already exists");
  });

  it("passes an operational LedgerError of the backend through unchanged", async () => {
    const unavailable = new LedgerError("UNAVAILABLE", "no leader");
    backend.override = () => {
      throw unavailable;
    };
    await expect(service.createAccount(create(CreateAccountRequestSchema), ctx)).rejects.toBe(unavailable);
  });

  it("treats a result of the wrong kind as a broken invariant, not a LedgerError", async () => {
    const id = await newAccount();
    backend.override = () =>
      create(CommandResultSchema, {
        kind: {
          case: "account",
          value: {
            id: 1n,
            availableBalance: 0n,
            settledBalance: 0n,
            createdAt: 1n,
            updatedAt: 1n,
            requestId: "",
            transactionCount: 0n,
          },
        },
      });
    await expect(addTransaction(id, 1n, true)).rejects.toBeInstanceOf(AssertionError);
  });
});
