import { describe, expect, it } from "vitest";
import { checkNoOverdraft } from "./no-overdraft.js";
import { HistoryBuilder, accountA, CANCELLED, INSUFFICIENT_FUNDS, PENDING, SETTLED } from "./history-builder.js";

function finalOf(
  b: HistoryBuilder,
  available: bigint,
  settled: bigint,
  stored: Parameters<HistoryBuilder["final"]>[2],
) {
  return new Map([[accountA, b.final(available, settled, stored)]]);
}

describe("no-overdraft checker", () => {
  it("accepts purchases covered by earlier settled topups, and refused ones that were not", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 1], "t1", 100n, true, SETTLED)
      .create(0, [2, 3], "p1", -60n, false, PENDING)
      .create(0, [4, 5], "p2", -50n, true, INSUFFICIENT_FUNDS)
      .create(0, [6, 7], "p3", -40n, true, SETTLED);
    const result = checkNoOverdraft(
      finalOf(b, 0n, 60n, [
        ["t1", SETTLED],
        ["p1", PENDING],
        ["p2", INSUFFICIENT_FUNDS],
        ["p3", SETTLED],
      ]),
    );
    expect(result).toEqual({ verdict: "ok", overdrafts: [], purchasesChecked: 2 });
  });

  it("accepts a purchase funded by a cancelled earlier purchase's released hold", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 1], "t1", 50n, true, SETTLED)
      .create(0, [2, 3], "p1", -50n, false, PENDING)
      .create(0, [6, 7], "p2", -50n, true, SETTLED);
    expect(
      checkNoOverdraft(
        finalOf(b, 0n, 0n, [
          ["t1", SETTLED],
          ["p1", CANCELLED],
          ["p2", SETTLED],
        ]),
      ).verdict,
    ).toBe("ok");
  });

  it("rejects a purchase accepted on a balance that could not cover it (a negative available balance)", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 1], "t1", 10n, true, SETTLED)
      .create(0, [2, 3], "p1", -20n, true, SETTLED);
    const result = checkNoOverdraft(
      finalOf(b, -10n, -10n, [
        ["t1", SETTLED],
        ["p1", SETTLED],
      ]),
    );
    expect(result.verdict).toBe("illegal");
    expect(result.overdrafts.map((o) => o.transactionId)).toEqual([b.id("p1"), ""]);
  });

  it("rejects a purchase whose funds arrived only after it (a topup created later)", () => {
    const b = new HistoryBuilder()
      .create(0, [0, 1], "p1", -20n, true, SETTLED)
      .create(0, [2, 3], "t1", 30n, true, SETTLED);
    const result = checkNoOverdraft(
      finalOf(b, 10n, 10n, [
        ["p1", SETTLED],
        ["t1", SETTLED],
      ]),
    );
    expect(result.overdrafts.map((o) => o.transactionId)).toEqual([b.id("p1")]);
  });

  it("counts a pending topup's funds only if it ends settled", () => {
    // A pending topup settled at some point: the purchase after it may have used it, so no alarm.
    const b = new HistoryBuilder()
      .create(0, [0, 1], "t1", 30n, false, PENDING)
      .create(0, [2, 3], "p1", -20n, true, SETTLED);
    expect(
      checkNoOverdraft(
        finalOf(b, 10n, 10n, [
          ["t1", SETTLED],
          ["p1", SETTLED],
        ]),
      ).verdict,
    ).toBe("ok");
    // Still pending at the end: it never funded anything.
    expect(
      checkNoOverdraft(
        finalOf(b, -20n, -20n, [
          ["t1", PENDING],
          ["p1", SETTLED],
        ]),
      ).verdict,
    ).toBe("illegal");
  });
});
