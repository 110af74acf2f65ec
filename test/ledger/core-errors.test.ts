// Every refusal of the core: a CoreError result with the right code, no writes, state unchanged.

import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AssertionError } from "../../src/base/assert.js";
import {
  AccountRecordSchema,
  CoreErrorCode,
  TransactionRecordSchema,
  type Command,
} from "../../src/gen/ledger/core/v1/core_pb.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import { applyCommand } from "../../src/ledger/core.js";
import { int64Max, int64Min } from "../../src/ledger/int64.js";
import { MemoryLedger } from "../../src/ledger/memory-ledger.js";
import {
  cancelCommand,
  createAccountCommand,
  createTransactionCommand,
  errorOf,
  settleCommand,
  t0,
  transactionOf,
} from "./commands.js";

const accountId = 0xfedcba9876543210n;

function ledgerWithAccount(): MemoryLedger {
  const ledger = new MemoryLedger();
  ledger.apply(createAccountCommand(accountId));
  return ledger;
}

/** Applies a command expected to be refused; checks there are no writes and nothing changed. */
function refused(ledger: MemoryLedger, command: Command, code: CoreErrorCode): string {
  const accountBefore = ledger.getAccount(accountId);
  const { result, writes } = applyCommand(ledger, command);
  expect(writes).toEqual([]);
  expect(ledger.getAccount(accountId)).toBe(accountBefore);
  return errorOf(result, code).message;
}

/** Puts records straight into the view: states the rules cannot reach, to test the range checks. */
function craftedLedger(available: bigint, settled: bigint, pendingAmount: bigint): MemoryLedger {
  const ledger = new MemoryLedger();
  ledger.applyWrites([
    {
      kind: "account",
      record: create(AccountRecordSchema, {
        id: accountId,
        availableBalance: available,
        settledBalance: settled,
        transactionCount: 1n,
      }),
    },
    {
      kind: "transaction",
      record: create(TransactionRecordSchema, {
        accountId,
        localId: 1n,
        seq: 1n,
        amount: pendingAmount,
        status: TransactionStatus.PENDING,
      }),
    },
    { kind: "creationIndex", accountId, seq: 1n, localId: 1n },
  ]);
  return ledger;
}

describe("NOT_FOUND", () => {
  const unknown = 0x00000000000000abn;
  it.each([
    ["create transaction", createTransactionCommand({ accountId: unknown, localId: 1n, amount: 5n, settled: true })],
    ["settle", settleCommand(unknown, 1n)],
    ["cancel", cancelCommand(unknown, 1n)],
  ])("%s on an unknown account names the account id", (_name, command) => {
    expect(refused(ledgerWithAccount(), command, CoreErrorCode.NOT_FOUND)).toBe("account 00000000000000ab not found");
  });

  it.each([
    ["settle", settleCommand(accountId, 0x1fn)],
    ["cancel", cancelCommand(accountId, 0x1fn)],
  ])("%s of an unknown transaction names the transaction id", (_name, command) => {
    expect(refused(ledgerWithAccount(), command, CoreErrorCode.NOT_FOUND)).toBe(
      "transaction fedcba9876543210000000000000001f not found",
    );
  });
});

describe("FAILED_PRECONDITION: settle or cancel of a transaction that is not pending", () => {
  const setups: [string, (ledger: MemoryLedger) => void][] = [
    ["SETTLED", (l) => l.apply(createTransactionCommand({ accountId, localId: 7n, amount: 10n, settled: true }))],
    [
      "CANCELLED",
      (l) => {
        l.apply(createTransactionCommand({ accountId, localId: 7n, amount: 10n, settled: false }));
        l.apply(cancelCommand(accountId, 7n));
      },
    ],
    [
      "INSUFFICIENT_FUNDS",
      (l) => l.apply(createTransactionCommand({ accountId, localId: 7n, amount: -100n, settled: false })),
    ],
  ];
  for (const [status, setup] of setups) {
    for (const verb of ["settle", "cancel"] as const) {
      it(`${verb} of a ${status} transaction is refused and changes nothing`, () => {
        const ledger = ledgerWithAccount();
        ledger.apply(createTransactionCommand({ accountId, localId: 1n, amount: 50n, settled: true }));
        setup(ledger);
        const txBefore = ledger.getTransaction(accountId, 7n);
        const command =
          verb === "settle" ? settleCommand(accountId, 7n, t0 + 1n) : cancelCommand(accountId, 7n, t0 + 1n);
        expect(refused(ledger, command, CoreErrorCode.FAILED_PRECONDITION)).toContain(`is ${status};`);
        expect(ledger.getTransaction(accountId, 7n)).toBe(txBefore);
      });
    }
  }
});

describe("OUT_OF_RANGE: a balance would leave int64", () => {
  it("a settled topup past int64 max", () => {
    const ledger = ledgerWithAccount();
    ledger.apply(createTransactionCommand({ accountId, localId: 1n, amount: int64Max, settled: true }));
    const message = refused(
      ledger,
      createTransactionCommand({ accountId, localId: 2n, amount: 1n, settled: true }),
      CoreErrorCode.OUT_OF_RANGE,
    );
    expect(message).toContain("fedcba9876543210");
    expect(ledger.getAccount(accountId)?.availableBalance).toBe(int64Max);
    expect(ledger.getTransaction(accountId, 2n)).toBeUndefined();
    expect(ledger.getAccount(accountId)?.transactionCount).toBe(1n);
  });

  it("settling a pending topup past int64 max leaves it pending", () => {
    const ledger = ledgerWithAccount();
    ledger.apply(createTransactionCommand({ accountId, localId: 1n, amount: int64Max, settled: true }));
    expect(
      transactionOf(
        ledger.apply(createTransactionCommand({ accountId, localId: 2n, amount: 1n, settled: false })).result,
      ).status,
    ).toBe(TransactionStatus.PENDING);
    refused(ledger, settleCommand(accountId, 2n), CoreErrorCode.OUT_OF_RANGE);
    expect(ledger.getTransaction(accountId, 2n)?.status).toBe(TransactionStatus.PENDING);
  });

  it("a purchase of -2^63 is insufficient funds, not an overflow, even at int64 max", () => {
    const ledger = ledgerWithAccount();
    ledger.apply(createTransactionCommand({ accountId, localId: 1n, amount: int64Max, settled: true }));
    const tx = transactionOf(
      ledger.apply(createTransactionCommand({ accountId, localId: 2n, amount: int64Min, settled: false })).result,
    );
    expect(tx.status).toBe(TransactionStatus.INSUFFICIENT_FUNDS);
    expect(ledger.getAccount(accountId)?.availableBalance).toBe(int64Max);
  });

  it("cancelling a pending purchase of -2^63 (negation overflows) is refused", () => {
    const ledger = craftedLedger(5n, 5n, int64Min);
    refused(ledger, cancelCommand(accountId, 1n), CoreErrorCode.OUT_OF_RANGE);
    expect(ledger.getTransaction(accountId, 1n)?.status).toBe(TransactionStatus.PENDING);
  });

  it("settling a pending purchase below int64 min is refused", () => {
    const ledger = craftedLedger(0n, int64Min + 5n, -10n);
    refused(ledger, settleCommand(accountId, 1n), CoreErrorCode.OUT_OF_RANGE);
    expect(ledger.getAccount(accountId)?.settledBalance).toBe(int64Min + 5n);
  });
});

describe("ALREADY_EXISTS", () => {
  it("creating an account whose id exists under another request id", () => {
    const ledger = new MemoryLedger();
    ledger.apply(createAccountCommand(accountId, { requestId: "first" }));
    const before = ledger.getAccount(accountId);
    const { result, writes } = applyCommand(
      ledger,
      createAccountCommand(accountId, { requestId: "second", timestamp: t0 + 1n }),
    );
    expect(errorOf(result, CoreErrorCode.ALREADY_EXISTS).message).toBe("account fedcba9876543210 already exists");
    expect(writes).toEqual([]);
    expect(ledger.getAccount(accountId)).toBe(before);
  });
});

describe("internal errors are assertions, not results", () => {
  it("amount 0 reaching the core throws an AssertionError", () => {
    const ledger = ledgerWithAccount();
    expect(() =>
      applyCommand(ledger, createTransactionCommand({ accountId, localId: 1n, amount: 0n, settled: true })),
    ).toThrow(AssertionError);
  });
});
