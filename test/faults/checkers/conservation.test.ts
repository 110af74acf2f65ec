import { describe, expect, it } from "vitest";
import { checkConservation, foldBalances } from "./conservation.js";
import { HistoryBuilder, accountA, CANCELLED, INSUFFICIENT_FUNDS, PENDING, SETTLED } from "./history-builder.js";

function check(
  b: HistoryBuilder,
  available: bigint,
  settled: bigint,
  stored: Parameters<HistoryBuilder["final"]>[2],
  withIds = true,
) {
  const final = new Map([[accountA, b.final(available, settled, stored)]]);
  return checkConservation(b.ops, final, withIds ? { transactionIdOf: (_a, r) => b.id(r) } : {});
}

describe("conservation checker", () => {
  it("folds stored transactions into both balances by the ledger's rules", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 1], "t1", 100n, true, SETTLED)
      .create(0, [2, 3], "t2", 40n, false, PENDING)
      .create(0, [4, 5], "p1", -30n, false, PENDING)
      .create(0, [6, 7], "p2", -20n, true, SETTLED)
      .create(0, [8, 9], "p3", -5n, false, PENDING)
      .create(0, [10, 11], "p4", -500n, true, INSUFFICIENT_FUNDS);
    const stored = b.final(0n, 0n, [
      ["t1", SETTLED],
      ["t2", PENDING],
      ["p1", PENDING],
      ["p2", SETTLED],
      ["p3", CANCELLED],
      ["p4", INSUFFICIENT_FUNDS],
    ]).transactions;
    expect(foldBalances(stored)).toEqual({ available: 50n, settled: 80n });
  });

  it("accepts an end state that holds every acknowledged create once, and an unknown one that applied", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 1], "t1", 100n, true, SETTLED)
      .create(1, [0, 5], "t2", 10n, false, "unknown")
      .create(0, [2, 3], "p1", -30n, false, PENDING)
      .settle(0, [4, 5], "p1", SETTLED);
    const result = check(b, 70n, 70n, [
      ["t1", SETTLED],
      ["t2", PENDING],
      ["p1", SETTLED],
    ]);
    expect(result.problems).toEqual([]);
    expect(result.verdict).toBe("ok");
  });

  it("rejects balances that differ from the fold of the stored transactions", () => {
    const b = new HistoryBuilder().create(0, [0, 1], "t1", 100n, true, SETTLED);
    const result = check(b, 100n, 90n, [["t1", SETTLED]]);
    expect(result.verdict).toBe("illegal");
    expect(result.problems.map((p) => p.kind)).toEqual(["balance"]);
  });

  it("rejects a lost acknowledged create", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 1], "t1", 100n, true, SETTLED)
      .create(0, [2, 3], "t2", 5n, true, SETTLED);
    const result = check(b, 5n, 5n, [["t2", SETTLED]]);
    expect(result.problems.map((p) => p.kind)).toEqual(["lost"]);
  });

  it("rejects a lost acknowledged settle", () => {
    const b = new HistoryBuilder().create(0, [0, 1], "t1", 100n, false, PENDING).settle(0, [2, 3], "t1", SETTLED);
    const result = check(b, 0n, 0n, [["t1", PENDING]]);
    expect(result.problems.map((p) => p.kind)).toEqual(["lost"]);
  });

  it("rejects a transaction stored twice", () => {
    const b = new HistoryBuilder().create(0, [0, 1], "t1", 100n, true, SETTLED);
    const result = check(b, 200n, 200n, [
      ["t1", SETTLED],
      ["t1", SETTLED],
    ]);
    expect(result.problems.map((p) => p.kind)).toEqual(["duplicate"]);
  });

  it("rejects a duplicated apply of one request_id stored under a second id", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 10], "t1", 100n, true, "unknown")
      .create(0, [20, 30], "t1", 100n, true, SETTLED);
    const final = new Map([
      [
        accountA,
        {
          account: { id: accountA, availableBalance: 200n, settledBalance: 200n },
          transactions: [...b.transactions([["t1", SETTLED]]), { id: b.id("t1-again"), amount: 100n, status: SETTLED }],
        },
      ],
    ]);
    for (const options of [{ transactionIdOf: (_a: string, r: string) => b.id(r) }, {}]) {
      const result = checkConservation(b.ops, final, options);
      expect(result.problems.map((p) => p.kind)).toEqual(["not-issued"]);
    }
  });

  it("rejects a stored transaction that no client issued, and one whose create was refused", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 1], "t1", 100n, true, SETTLED)
      .create(0, [2, 3], "p1", -10n, true, { code: "NOT_FOUND" });
    const final = new Map([
      [
        accountA,
        {
          account: { id: accountA, availableBalance: 97n, settledBalance: 97n },
          transactions: [
            ...b.transactions([["t1", SETTLED]]),
            { id: b.id("p1"), amount: -10n, status: SETTLED },
            { id: b.id("ghost"), amount: 7n, status: SETTLED },
          ],
        },
      ],
    ]);
    const result = checkConservation(b.ops, final, { transactionIdOf: (_a, r) => b.id(r) });
    expect(result.problems.map((p) => p.kind)).toEqual(["not-issued", "not-issued"]);
  });

  it("explains a stored transaction by an unknown create whose id is not known, once", () => {
    const b = new HistoryBuilder().create(0, [0, 10], "t1", 100n, true, "unknown");
    const final = (n: number) =>
      new Map([
        [
          accountA,
          {
            account: { id: accountA, availableBalance: 100n * BigInt(n), settledBalance: 100n * BigInt(n) },
            transactions: Array.from({ length: n }, (_, i) => ({ id: b.id(`x${i}`), amount: 100n, status: SETTLED })),
          },
        ],
      ]);
    expect(checkConservation(b.ops, final(1)).verdict).toBe("ok");
    expect(checkConservation(b.ops, final(2)).problems.map((p) => p.kind)).toEqual(["not-issued"]);
  });

  it("rejects a stored status other than the final one the client was told", () => {
    const b = new HistoryBuilder().create(0, [0, 1], "t1", 100n, true, SETTLED);
    const result = check(b, 0n, 0n, [["t1", CANCELLED]]);
    expect(result.problems.map((p) => p.kind)).toEqual(["content"]);
  });

  it("rejects a create told PENDING that is stored as refused for insufficient funds", () => {
    const b = new HistoryBuilder().create(0, [0, 1], "t1", 100n, false, PENDING);
    expect(check(b, 0n, 0n, [["t1", INSUFFICIENT_FUNDS]]).problems.map((p) => p.kind)).toEqual(["content"]);
    expect(check(b, 100n, 100n, [["t1", SETTLED]]).verdict).toBe("ok");
  });

  it("rejects an acknowledged account missing at the end", () => {
    const b = new HistoryBuilder().createAccount(0, [0, 1]);
    expect(checkConservation(b.ops, new Map()).problems.map((p) => p.kind)).toEqual(["missing-account"]);
  });
});
