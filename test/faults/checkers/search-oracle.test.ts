// The search with all its shortcuts (memoization, reads placed greedily, the creation order the
// lists show, unknown updates the final state rules out) must agree with a plain enumeration of
// every order on small histories, legal ones and corrupted ones.

import { describe, expect, it } from "vitest";
import { seededPrng, type Prng } from "../../../src/base/prng.js";
import type { HistoryOp } from "../history.js";
import { partitionByAccount } from "./account-histories.js";
import { accountModel, type AccountState } from "./account-model.js";
import { checkLinearizability } from "./linearizability.js";
import { generateHistory, type GeneratedHistory } from "./random-history.js";

/** Tries every order that respects real time; unknown ops may be left out. */
function bruteForceLinearizable(history: readonly HistoryOp[], generated: GeneratedHistory): boolean {
  const account = [...partitionByAccount(history, generated.transactionIdOf).accounts.values()][0]!;
  const model = accountModel(account.initiallyExists, account.names);
  const { ops, times } = account;
  const placed = new Array<boolean>(ops.length).fill(false);
  const mustPlace = times.filter((t) => t.returnMs !== Infinity).length;
  const search = (state: AccountState, count: number): boolean => {
    if (count === mustPlace) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      if (times.some((t, j) => !placed[j] && j !== i && t.returnMs < times[i]!.invokeMs)) continue;
      const result = model.step(state, ops[i]!);
      if (!result.ok) continue;
      placed[i] = true;
      const found = search(result.state, count + (times[i]!.returnMs === Infinity ? 0 : 1));
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(model.init, 0);
}

function corrupt(history: HistoryOp[], random: Prng): void {
  const candidates = history
    .map((op, i) => [op, i] as const)
    .filter(([op]) => op.outcome === "ok" && op.kind !== "create-account");
  if (candidates.length === 0) return;
  const [op, i] = candidates[random.intBelow(candidates.length)]!;
  if (op.account)
    history[i] = {
      ...op,
      account: { ...op.account, availableBalance: op.account.availableBalance + BigInt(random.intBelow(3) - 1) * 10n },
    };
  else if (op.transaction) history[i] = { ...op, transaction: { ...op.transaction, status: 1 + random.intBelow(4) } };
  else if (op.transactions && op.transactions.length > 1)
    history[i] = {
      ...op,
      transactions: random.intBelow(2) === 0 ? [...op.transactions].reverse() : op.transactions.slice(1),
    };
}

function finalReads(generated: GeneratedHistory): HistoryOp[] {
  const [accountId, final] = [...generated.finalState][0]!;
  return [
    {
      client: -1,
      kind: "list",
      accountId,
      invokeMs: 10_000,
      completeMs: 10_001,
      outcome: "ok",
      transactions: final.transactions,
    },
    {
      client: -1,
      kind: "get-account",
      accountId,
      invokeMs: 10_002,
      completeMs: 10_003,
      outcome: "ok",
      account: final.account,
    },
  ];
}

describe("linearizability search against brute force", () => {
  it("agrees on 400 small random histories, half of them corrupted", () => {
    const verdicts = { ok: 0, illegal: 0 };
    for (let seed = 1; seed <= 400; seed++) {
      const random = seededPrng(seed);
      const generated = generateHistory({ seed, ops: 7, overlapMs: 25, spacingMs: 10, unknownPercent: 30 });
      const history = [...generated.history];
      if (seed % 2 === 0) corrupt(history, random);
      const withFinal = seed % 4 < 2;
      const expected = bruteForceLinearizable(withFinal ? [...history, ...finalReads(generated)] : history, generated);
      const result = checkLinearizability(history, {
        transactionIdOf: generated.transactionIdOf,
        finalState: withFinal ? generated.finalState : undefined,
      });
      expect(result.verdict, `seed ${seed}`).toBe(expected ? "ok" : "illegal");
      verdicts[expected ? "ok" : "illegal"]++;
    }
    // Both kinds of answer were exercised.
    expect(verdicts.ok).toBeGreaterThan(100);
    expect(verdicts.illegal).toBeGreaterThan(50);
  });
});
