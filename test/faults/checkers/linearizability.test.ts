import { describe, expect, it } from "vitest";
import { checkLinearizability } from "./linearizability.js";
import {
  HistoryBuilder,
  accountA,
  accountB,
  CANCELLED,
  INSUFFICIENT_FUNDS,
  PENDING,
  SETTLED,
} from "./history-builder.js";
import { generateHistory } from "./random-history.js";

function verdictOf(b: HistoryBuilder, options: Parameters<typeof checkLinearizability>[1] = {}) {
  const result = checkLinearizability(b.ops, { transactionIdOf: (_account, requestId) => b.id(requestId), ...options });
  return { result, verdict: result.verdict, explanation: result.accounts.map((a) => a.explanation ?? "").join("\n") };
}

describe("linearizability checker: legal histories", () => {
  it("accepts a sequential history of topups, purchases, settle, cancel and reads", () => {
    const b = new HistoryBuilder()
      .createAccount(0, [0, 1])
      .create(0, [2, 3], "t1", 100n, true, SETTLED)
      .create(0, [4, 5], "p1", -30n, false, PENDING)
      .getAccount(0, [6, 7], 70n, 100n)
      .settle(0, [8, 9], "p1", SETTLED)
      .create(0, [10, 11], "t2", 50n, false, PENDING)
      .cancel(0, [12, 13], "t2", CANCELLED)
      .create(0, [14, 15], "p2", -500n, true, INSUFFICIENT_FUNDS)
      .getAccount(0, [16, 17], 70n, 70n)
      .list(
        0,
        [18, 19],
        [
          ["t1", SETTLED],
          ["p1", SETTLED],
          ["t2", CANCELLED],
          ["p2", INSUFFICIENT_FUNDS],
        ],
      );
    expect(verdictOf(b).verdict).toBe("ok");
  });

  it("accepts a retried create that returns the transaction's current status and applies once", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 10], "t1", 100n, false, "unknown")
      .create(0, [20, 30], "t1", 100n, false, PENDING)
      .settle(0, [40, 50], "t1", SETTLED)
      .create(0, [60, 70], "t1", 100n, false, SETTLED)
      .getAccount(1, [80, 90], 100n, 100n);
    expect(verdictOf(b).verdict).toBe("ok");
  });

  it("accepts an unknown create that took effect after its client gave up on it", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 10], "t1", 100n, true, "unknown")
      .getAccount(1, [20, 30], 0n, 0n)
      .getAccount(1, [40, 50], 100n, 100n);
    const final = new Map([[accountA, b.final(100n, 100n, [["t1", SETTLED]])]]);
    expect(verdictOf(b, { finalState: final }).verdict).toBe("ok");
  });

  it("accepts an unknown create that never took effect", () => {
    const b = new HistoryBuilder().create(0, [0, 10], "t1", 100n, true, "unknown").getAccount(1, [20, 30], 0n, 0n);
    const final = new Map([[accountA, b.final(0n, 0n, [])]]);
    expect(verdictOf(b, { finalState: final }).verdict).toBe("ok");
  });

  it("accepts concurrent ops whose only valid order is not their invocation order", () => {
    // Only C? A D E B C? works: E reads 80, so A (+100) and D (-20) precede it and B (-80) follows;
    // C (-50) was refused, so it sits where available < 50: before A or after B.
    const b = new HistoryBuilder()
      .getAccount(4, [0, 100], 80n, 80n) // E
      .create(1, [1, 100], "B", -80n, true, SETTLED)
      .create(2, [2, 100], "C", -50n, true, INSUFFICIENT_FUNDS)
      .create(3, [3, 100], "D", -20n, true, SETTLED)
      .create(0, [4, 100], "A", 100n, true, SETTLED)
      .list(
        5,
        [101, 102],
        [
          ["A", SETTLED],
          ["D", SETTLED],
          ["B", SETTLED],
          ["C", INSUFFICIENT_FUNDS],
        ],
      );
    const { result } = verdictOf(b);
    expect(result.verdict).toBe("ok");
    const order = result.accounts[0]!.order!.map((i) => b.ops[i]!.requestId ?? "E");
    expect(order.slice(0, 5)).toEqual(["A", "D", "E", "B", "C"]);
  });

  it("accepts a read concurrent with a write seeing either the old or the new balance", () => {
    for (const seen of [100n, 150n]) {
      const b = new HistoryBuilder()
        .create(0, [0, 10], "t1", 100n, true, SETTLED)
        .create(0, [20, 40], "t2", 50n, true, SETTLED)
        .getAccount(1, [25, 35], seen, seen);
      expect(verdictOf(b).verdict).toBe("ok");
    }
  });

  it("checks accounts independently and combines their verdicts", () => {
    const a = new HistoryBuilder(accountA)
      .create(0, [0, 10], "t1", 100n, true, SETTLED)
      .getAccount(0, [20, 30], 100n, 100n);
    const b = new HistoryBuilder(accountB).create(1, [0, 10], "t1", 5n, true, SETTLED).getAccount(1, [20, 30], 0n, 0n);
    const ids = (account: string, requestId: string) => (account === accountA ? a.id(requestId) : b.id(requestId));
    const result = checkLinearizability([...a.ops, ...b.ops], { transactionIdOf: ids });
    expect(result.verdict).toBe("illegal");
    expect(new Map(result.accounts.map((r) => [r.accountId, r.verdict]))).toEqual(
      new Map([
        [accountA, "ok"],
        [accountB, "illegal"],
      ]),
    );
  });
});

describe("linearizability checker: histories it must reject", () => {
  it("rejects a lost acknowledged write", () => {
    const b = new HistoryBuilder().create(0, [0, 10], "t1", 100n, true, SETTLED).getAccount(1, [20, 30], 0n, 0n);
    const { verdict, explanation } = verdictOf(b);
    expect(verdict).toBe("illegal");
    expect(explanation).toContain("the model has available=100 settled=100, the client read available=0 settled=0");
  });

  it("rejects an acknowledged create missing from the final state", () => {
    const b = new HistoryBuilder().create(0, [0, 10], "t1", 100n, true, SETTLED);
    const final = new Map([[accountA, b.final(0n, 0n, [])]]);
    const { verdict, explanation } = verdictOf(b, { finalState: final });
    expect(verdict).toBe("illegal");
    expect(explanation).toContain("final read");
  });

  it("rejects a duplicated apply of one request_id", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 10], "t1", 100n, true, "unknown")
      .create(0, [20, 30], "t1", 100n, true, SETTLED)
      .getAccount(1, [40, 50], 200n, 200n);
    expect(verdictOf(b).verdict).toBe("illegal");
  });

  it("rejects a list showing one request_id's transaction twice", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 10], "t1", 100n, true, SETTLED)
      .create(0, [20, 30], "t1", 100n, true, SETTLED)
      .list(
        1,
        [40, 50],
        [
          ["t1", SETTLED],
          ["t1", SETTLED],
        ],
      );
    expect(verdictOf(b).verdict).toBe("illegal");
  });

  it("rejects a stale balance read after a later acknowledged write completed", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 10], "t1", 100n, true, SETTLED)
      .getAccount(1, [20, 30], 100n, 100n)
      .create(0, [40, 50], "t2", 50n, true, SETTLED)
      .getAccount(1, [60, 70], 100n, 100n);
    const { verdict, explanation } = verdictOf(b);
    expect(verdict).toBe("illegal");
    expect(explanation).toContain("then this op could not be placed: #3 c1 get-account");
  });

  it("rejects a stale transaction status read after the settle was acknowledged", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 10], "t1", 100n, false, PENDING)
      .settle(0, [20, 30], "t1", SETTLED)
      .getTransaction(1, [40, 50], "t1", PENDING);
    expect(verdictOf(b).verdict).toBe("illegal");
  });

  it("rejects a settle acknowledged on a cancelled transaction", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 10], "t1", 100n, false, PENDING)
      .cancel(0, [20, 30], "t1", CANCELLED)
      .settle(1, [40, 50], "t1", SETTLED);
    const { verdict, explanation } = verdictOf(b);
    expect(verdict).toBe("illegal");
    expect(explanation).toContain("the model refuses it with FAILED_PRECONDITION");
  });

  it("rejects a concurrent settle and cancel of one transaction both acknowledged", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 10], "t1", -10n, false, PENDING)
      .cancel(0, [20, 40], "t1", CANCELLED)
      .settle(1, [20, 40], "t1", SETTLED);
    // t1 is a purchase on an empty account: it would have been refused, so fund it first.
    b.ops.unshift({
      client: 2,
      kind: "create-transaction",
      accountId: accountA,
      amount: 10n,
      settled: true,
      requestId: "fund",
      invokeMs: -10,
      completeMs: -5,
      outcome: "ok",
      transaction: { id: b.id("fund"), amount: 10n, status: SETTLED },
    });
    expect(verdictOf(b).verdict).toBe("illegal");
  });

  it("rejects a refusal the state does not explain (a settle refused while the transaction is pending)", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 10], "t1", 100n, false, PENDING)
      .settle(1, [20, 30], "t1", { code: "FAILED_PRECONDITION" });
    expect(verdictOf(b).verdict).toBe("illegal");
  });

  it("rejects a purchase accepted that takes the available balance below zero", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 10], "t1", 30n, true, SETTLED)
      .create(0, [20, 30], "p1", -50n, false, PENDING);
    const { verdict, explanation } = verdictOf(b);
    expect(verdict).toBe("illegal");
    expect(explanation).toContain("status PENDING, the model INSUFFICIENT_FUNDS");
  });

  it("rejects a transaction no client created showing up in a list", () => {
    const b = new HistoryBuilder().create(0, [0, 10], "t1", 100n, true, SETTLED);
    b.push({
      client: 1,
      kind: "list",
      accountId: accountA,
      invokeMs: 20,
      completeMs: 30,
      outcome: "ok",
      transactions: [...b.transactions([["t1", SETTLED]]), { id: b.id("ghost"), amount: 7n, status: SETTLED }],
    });
    expect(verdictOf(b).verdict).toBe("illegal");
  });
});

describe("linearizability checker: budget and performance", () => {
  it("says unknown, never ok, when a history is too big for its step budget", () => {
    // 18 concurrent unknown topups of distinct powers of two reach 2^18 distinct states; the
    // final read (an impossible odd balance) forces the search to try them all.
    const b = new HistoryBuilder();
    for (let i = 0; i < 18; i++) b.create(i, [0, 10], `t${i}`, 2n << BigInt(i), true, "unknown");
    b.getAccount(99, [20, 30], 3n, 3n);
    const { result } = verdictOf(b, { stepsPerAccountMax: 20_000 });
    expect(result.verdict).toBe("unknown");
    expect(result.accounts[0]!.explanation).toContain("gave up after 20000 search steps");
  });

  it("says unknown when the time budget runs out", () => {
    const b = new HistoryBuilder();
    for (let i = 0; i < 18; i++) b.create(i, [0, 10], `t${i}`, 2n << BigInt(i), true, "unknown");
    b.getAccount(99, [20, 30], 3n, 3n);
    let now = 0;
    const clock = () => (now += 100);
    expect(verdictOf(b, { timeMsPerAccountMax: 5_000, clock }).verdict).toBe("unknown");
  });

  it("checks a 200-op account history with about 8 overlapping ops in well under a second", () => {
    for (const seed of [1, 2, 3]) {
      const generated = generateHistory({ seed, ops: 200, overlapMs: 40, spacingMs: 10, unknownPercent: 5 });
      const started = performance.now();
      const result = checkLinearizability(generated.history, {
        transactionIdOf: generated.transactionIdOf,
        finalState: generated.finalState,
      });
      const elapsed = performance.now() - started;
      expect(result.verdict, result.accounts.map((a) => a.explanation ?? "").join("\n")).toBe("ok");
      expect(generated.maxOverlap).toBeGreaterThanOrEqual(5);
      expect(elapsed).toBeLessThan(1_000);
    }
  });

  it("rejects a generated history after one read in it is corrupted", () => {
    const generated = generateHistory({ seed: 7, ops: 200, overlapMs: 40, spacingMs: 10, unknownPercent: 5 });
    const history = [...generated.history];
    const at = history.findIndex((op, i) => i > 100 && op.kind === "get-account" && op.outcome === "ok");
    const read = history[at]!;
    history[at] = { ...read, account: { ...read.account!, settledBalance: read.account!.settledBalance + 1n } };
    expect(checkLinearizability(history, { transactionIdOf: generated.transactionIdOf }).verdict).toBe("illegal");
  });
});
