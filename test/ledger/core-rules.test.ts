// DESIGN.md §5, one row per line of the rules table, over the pure core and an in-memory view.

import { describe, expect, it } from "vitest";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import { MemoryLedger } from "../../src/ledger/memory-ledger.js";
import {
  accountOf,
  cancelCommand,
  createAccountCommand,
  createTransactionCommand,
  settleCommand,
  t0,
  transactionOf,
} from "./commands.js";

const accountId = 0x0123456789abcdefn;
const fundingId = 1n;
const subjectId = 2n;

interface Row {
  rule: string;
  /** Settled topup applied first so purchases have something to spend. */
  funds: bigint;
  amount: bigint;
  settled: boolean;
  followedBy?: "settle" | "cancel";
  status: TransactionStatus;
  available: bigint;
  settledBalance: bigint;
}

const { PENDING, SETTLED, CANCELLED, INSUFFICIENT_FUNDS } = TransactionStatus;

const rows: Row[] = [
  {
    rule: "create amount > 0 settled",
    funds: 30n,
    amount: 100n,
    settled: true,
    status: SETTLED,
    available: 130n,
    settledBalance: 130n,
  },
  {
    rule: "create amount > 0 pending",
    funds: 30n,
    amount: 100n,
    settled: false,
    status: PENDING,
    available: 30n,
    settledBalance: 30n,
  },
  {
    rule: "create amount < 0 settled, available + amount < 0",
    funds: 30n,
    amount: -31n,
    settled: true,
    status: INSUFFICIENT_FUNDS,
    available: 30n,
    settledBalance: 30n,
  },
  {
    rule: "create amount < 0 pending, available + amount < 0",
    funds: 30n,
    amount: -31n,
    settled: false,
    status: INSUFFICIENT_FUNDS,
    available: 30n,
    settledBalance: 30n,
  },
  {
    rule: "create amount < 0 on an empty account",
    funds: 0n,
    amount: -1n,
    settled: true,
    status: INSUFFICIENT_FUNDS,
    available: 0n,
    settledBalance: 0n,
  },
  {
    rule: "create amount < 0 settled, funds ok",
    funds: 30n,
    amount: -20n,
    settled: true,
    status: SETTLED,
    available: 10n,
    settledBalance: 10n,
  },
  {
    rule: "create amount < 0 settled, spends exactly the available balance",
    funds: 30n,
    amount: -30n,
    settled: true,
    status: SETTLED,
    available: 0n,
    settledBalance: 0n,
  },
  {
    rule: "create amount < 0 pending, funds ok",
    funds: 30n,
    amount: -20n,
    settled: false,
    status: PENDING,
    available: 10n,
    settledBalance: 30n,
  },
  {
    rule: "settle pending topup",
    funds: 30n,
    amount: 100n,
    settled: false,
    followedBy: "settle",
    status: SETTLED,
    available: 130n,
    settledBalance: 130n,
  },
  {
    rule: "settle pending purchase",
    funds: 30n,
    amount: -20n,
    settled: false,
    followedBy: "settle",
    status: SETTLED,
    available: 10n,
    settledBalance: 10n,
  },
  {
    rule: "cancel pending topup",
    funds: 30n,
    amount: 100n,
    settled: false,
    followedBy: "cancel",
    status: CANCELLED,
    available: 30n,
    settledBalance: 30n,
  },
  {
    rule: "cancel pending purchase restores the available balance",
    funds: 30n,
    amount: -20n,
    settled: false,
    followedBy: "cancel",
    status: CANCELLED,
    available: 30n,
    settledBalance: 30n,
  },
];

describe("ledger rules table (DESIGN.md §5)", () => {
  it.each(rows)("$rule -> $status, available $available, settled $settledBalance", (row) => {
    const ledger = new MemoryLedger();
    ledger.apply(createAccountCommand(accountId));
    if (row.funds > 0n)
      ledger.apply(createTransactionCommand({ accountId, localId: fundingId, amount: row.funds, settled: true }));
    const created = transactionOf(
      ledger.apply(
        createTransactionCommand({
          accountId,
          localId: subjectId,
          amount: row.amount,
          settled: row.settled,
          timestamp: t0 + 1n,
        }),
      ).result,
    );
    let final = created;
    if (row.followedBy !== undefined) {
      const command =
        row.followedBy === "settle"
          ? settleCommand(accountId, subjectId, t0 + 2n)
          : cancelCommand(accountId, subjectId, t0 + 2n);
      final = transactionOf(ledger.apply(command).result);
      expect(final.updatedAt).toBe(t0 + 2n);
      expect(final.createdAt).toBe(t0 + 1n);
    }
    expect(TransactionStatus[final.status]).toBe(TransactionStatus[row.status]);
    expect(ledger.getTransaction(accountId, subjectId)?.status).toBe(row.status);
    const account = ledger.getAccount(accountId)!;
    expect(account.availableBalance).toBe(row.available);
    expect(account.settledBalance).toBe(row.settledBalance);
  });

  it("every transaction, insufficient-funds ones included, takes the next creation seq", () => {
    const ledger = new MemoryLedger();
    ledger.apply(createAccountCommand(accountId));
    const amounts = [5n, -100n, -3n, 7n];
    const seqs = amounts.map(
      (amount, i) =>
        transactionOf(
          ledger.apply(createTransactionCommand({ accountId, localId: BigInt(100 + i), amount, settled: true })).result,
        ).seq,
    );
    expect(seqs).toEqual([1n, 2n, 3n, 4n]);
    expect(ledger.getTransaction(accountId, 101n)?.status).toBe(INSUFFICIENT_FUNDS);
    expect(ledger.getAccount(accountId)?.transactionCount).toBe(4n);
    expect(ledger.listTransactions(accountId, 0n, 10).map((t) => t.localId)).toEqual([100n, 101n, 102n, 103n]);
  });

  it("timestamps come from the command: created_at/updated_at on create, updated_at on settle and on the written account", () => {
    const ledger = new MemoryLedger();
    const account = accountOf(ledger.apply(createAccountCommand(accountId, { timestamp: t0 })).result);
    expect([account.createdAt, account.updatedAt]).toEqual([t0, t0]);
    const tx = transactionOf(
      ledger.apply(
        createTransactionCommand({ accountId, localId: 9n, amount: 10n, settled: false, timestamp: t0 + 5n }),
      ).result,
    );
    expect([tx.createdAt, tx.updatedAt]).toEqual([t0 + 5n, t0 + 5n]);
    expect(ledger.getAccount(accountId)?.updatedAt).toBe(t0 + 5n); // written: transaction_count moved
    ledger.apply(settleCommand(accountId, 9n, t0 + 9n));
    expect(ledger.getTransaction(accountId, 9n)?.updatedAt).toBe(t0 + 9n);
    expect(ledger.getTransaction(accountId, 9n)?.createdAt).toBe(t0 + 5n);
    expect(ledger.getAccount(accountId)?.updatedAt).toBe(t0 + 9n);
    expect(ledger.getAccount(accountId)?.createdAt).toBe(t0);
  });

  it("the core never mutates records it read from the view", () => {
    const ledger = new MemoryLedger();
    ledger.apply(createAccountCommand(accountId));
    ledger.apply(createTransactionCommand({ accountId, localId: 1n, amount: 10n, settled: false }));
    const accountBefore = ledger.getAccount(accountId)!;
    const txBefore = ledger.getTransaction(accountId, 1n)!;
    ledger.apply(settleCommand(accountId, 1n, t0 + 1n));
    expect(accountBefore.availableBalance).toBe(0n);
    expect(txBefore.status).toBe(PENDING);
    expect(ledger.getAccount(accountId)?.availableBalance).toBe(10n);
  });
});
