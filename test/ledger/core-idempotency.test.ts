// DESIGN.md §4: a repeated create (same ids, same content) returns the existing record and
// writes nothing; the same ids with different content are refused and change nothing.

import { describe, expect, it } from "vitest";
import { CoreErrorCode } from "../../src/gen/ledger/core/v1/core_pb.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import { applyCommand } from "../../src/ledger/core.js";
import { MemoryLedger } from "../../src/ledger/memory-ledger.js";
import {
  accountOf,
  cancelCommand,
  createAccountCommand,
  createTransactionCommand,
  errorOf,
  settleCommand,
  t0,
  transactionOf,
  type CreateTransactionFields,
} from "./commands.js";

const accountId = 0x1111222233334444n;
const original: CreateTransactionFields = {
  accountId,
  localId: 42n,
  amount: 250n,
  settled: true,
  description: "coffee",
  requestId: "req-1",
};

function ledgerWithOriginal(): MemoryLedger {
  const ledger = new MemoryLedger();
  ledger.apply(createAccountCommand(accountId));
  ledger.apply(createTransactionCommand(original));
  return ledger;
}

describe("CreateAccount retries", () => {
  it.each(["acct-req", ""])(
    "the same id with the same request id %j returns the existing record and writes nothing",
    (requestId) => {
      const ledger = new MemoryLedger();
      const first = accountOf(ledger.apply(createAccountCommand(accountId, { requestId, timestamp: t0 })).result);
      const { result, writes } = applyCommand(
        ledger,
        createAccountCommand(accountId, { requestId, timestamp: t0 + 100n }),
      );
      expect(writes).toEqual([]);
      expect(accountOf(result)).toEqual(first);
      expect(accountOf(result).createdAt).toBe(t0);
    },
  );
});

describe("CreateTransaction retries", () => {
  it("the same request again returns the same record; balances move once; no writes", () => {
    const ledger = ledgerWithOriginal();
    const first = ledger.getTransaction(accountId, 42n)!;
    const { result, writes } = applyCommand(ledger, createTransactionCommand({ ...original, timestamp: t0 + 7n }));
    expect(writes).toEqual([]);
    expect(transactionOf(result)).toEqual(first);
    expect(ledger.getAccount(accountId)?.availableBalance).toBe(250n);
    expect(ledger.getAccount(accountId)?.settledBalance).toBe(250n);
    expect(ledger.getAccount(accountId)?.transactionCount).toBe(1n);
  });

  it("a retry after the transaction was settled returns its current state", () => {
    const ledger = new MemoryLedger();
    ledger.apply(createAccountCommand(accountId));
    const pending = { ...original, settled: false };
    ledger.apply(createTransactionCommand(pending));
    ledger.apply(settleCommand(accountId, 42n, t0 + 1n));
    const { result, writes } = applyCommand(ledger, createTransactionCommand(pending));
    expect(writes).toEqual([]);
    expect(transactionOf(result).status).toBe(TransactionStatus.SETTLED);
    expect(ledger.getAccount(accountId)?.availableBalance).toBe(250n);
  });

  it("a gateway retry without a request id (same drawn ids, same content) is also a replay", () => {
    const ledger = new MemoryLedger();
    ledger.apply(createAccountCommand(accountId));
    const noRequestId = { ...original, requestId: "" };
    ledger.apply(createTransactionCommand(noRequestId));
    const { writes } = applyCommand(ledger, createTransactionCommand(noRequestId));
    expect(writes).toEqual([]);
    expect(ledger.getAccount(accountId)?.availableBalance).toBe(250n);
  });

  it.each<[string, Partial<CreateTransactionFields>]>([
    ["amount", { amount: 251n }],
    ["description", { description: "tea" }],
    ["settled flag", { settled: false }],
  ])("the same request id with a different %s is refused and changes nothing", (_field, change) => {
    const ledger = ledgerWithOriginal();
    const before = { account: ledger.getAccount(accountId), transaction: ledger.getTransaction(accountId, 42n) };
    const { result, writes } = applyCommand(ledger, createTransactionCommand({ ...original, ...change }));
    expect(writes).toEqual([]);
    expect(errorOf(result, CoreErrorCode.FAILED_PRECONDITION).message).toContain(
      'request_id "req-1" was already used with different content',
    );
    expect(ledger.getAccount(accountId)).toBe(before.account);
    expect(ledger.getTransaction(accountId, 42n)).toBe(before.transaction);
  });

  it("the same ids under a different request id are refused (colliding ids never merge two requests)", () => {
    const ledger = ledgerWithOriginal();
    const { result, writes } = applyCommand(ledger, createTransactionCommand({ ...original, requestId: "req-2" }));
    expect(writes).toEqual([]);
    expect(errorOf(result, CoreErrorCode.FAILED_PRECONDITION).message).toContain('request_id "req-2"');
  });
});

describe("SettleTransaction and CancelTransaction retries", () => {
  const pending = { ...original, localId: 43n, settled: false, requestId: "req-2" };
  function ledgerWithPending(): MemoryLedger {
    const ledger = ledgerWithOriginal();
    ledger.apply(createTransactionCommand(pending));
    return ledger;
  }
  const finishers = [
    { verb: "settle", command: settleCommand, status: TransactionStatus.SETTLED },
    { verb: "cancel", command: cancelCommand, status: TransactionStatus.CANCELLED },
  ] as const;

  it.each(finishers)(
    "$verb: a retry of the call that finished it returns the record as that call left it and writes nothing",
    ({ command, status }) => {
      const ledger = ledgerWithPending();
      const first = transactionOf(ledger.apply(command(accountId, 43n, t0 + 10n, 77n)).result);
      expect([first.status, first.finishedBy]).toEqual([status, 77n]);
      const balances = { ...ledger.getAccount(accountId)! };
      const { result, writes } = applyCommand(ledger, command(accountId, 43n, t0 + 10n, 77n));
      expect(writes).toEqual([]);
      expect(transactionOf(result)).toEqual(first);
      expect(ledger.getAccount(accountId)).toEqual(balances);
    },
  );

  it.each(finishers)(
    "$verb: another call (another attempt id, or none) meets a transaction no longer pending and is refused",
    ({ command }) => {
      const ledger = ledgerWithPending();
      ledger.apply(command(accountId, 43n, t0 + 10n, 77n));
      for (const attemptId of [78n, 0n]) {
        const { result, writes } = applyCommand(ledger, command(accountId, 43n, t0 + 20n, attemptId));
        expect(writes).toEqual([]);
        expect(errorOf(result, CoreErrorCode.FAILED_PRECONDITION).message).toContain("only a PENDING transaction");
      }
    },
  );

  it("the attempt that settled it does not make a cancel with the same id succeed", () => {
    const ledger = ledgerWithPending();
    ledger.apply(settleCommand(accountId, 43n, t0 + 10n, 77n));
    const { result } = applyCommand(ledger, cancelCommand(accountId, 43n, t0 + 10n, 77n));
    expect(errorOf(result, CoreErrorCode.FAILED_PRECONDITION).message).toContain("is SETTLED");
  });

  it("a finish without an attempt id is never replayed: its retry is refused", () => {
    const ledger = ledgerWithPending();
    expect(transactionOf(ledger.apply(settleCommand(accountId, 43n, t0 + 10n)).result).finishedBy).toBe(0n);
    const { result } = applyCommand(ledger, settleCommand(accountId, 43n, t0 + 10n));
    expect(errorOf(result, CoreErrorCode.FAILED_PRECONDITION).message).toContain("is SETTLED");
  });
});
