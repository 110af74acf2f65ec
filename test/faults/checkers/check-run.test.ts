import { describe, expect, it } from "vitest";
import { checkRun, describeRunVerdict } from "./check-run.js";
import { gatewayTransactionIdOf } from "./gateway-ids.js";
import { generateHistory } from "./random-history.js";
import { transactionLocalIdFromRequestId } from "../../../src/gateway/request-ids.js";

const replica = (node: string, appliedIndex: bigint, stateHash: string) => ({ node, appliedIndex, stateHash });
const converged = new Map([
  ["s1", [replica("node01", 9n, "aa"), replica("node02", 9n, "aa"), replica("node03", 9n, "aa")]],
]);

describe("checkRun", () => {
  it("passes a linearizable run whose end state adds up and whose replicas agree", () => {
    const g = generateHistory({ seed: 11, ops: 120, overlapMs: 40, spacingMs: 10, unknownPercent: 5 });
    const v = checkRun({
      history: g.history,
      finalState: g.finalState,
      replicas: converged,
      transactionIdOf: g.transactionIdOf,
      replicasPerShard: 3,
    });
    expect(describeRunVerdict(v)).toEqual([
      "linearizability: ok (1 accounts: 1 ok, 0 illegal, 0 unknown)",
      `conservation: ok (1 accounts, ${[...g.finalState.values()][0]!.transactions.length} transactions)`,
      `no overdraft: ok (${v.noOverdraft.purchasesChecked} accepted purchases)`,
      "convergence: ok (1 shards)",
    ]);
    expect(v.verdict).toBe("ok");
  });

  it("fails a run when any one checker finds a violation, and says which", () => {
    const g = generateHistory({ seed: 12, ops: 60, overlapMs: 40, spacingMs: 10, unknownPercent: 0 });
    const diverged = new Map([
      ["s1", [replica("node01", 9n, "aa"), replica("node02", 9n, "ab"), replica("node03", 9n, "aa")]],
    ]);
    const v = checkRun({
      history: g.history,
      finalState: g.finalState,
      replicas: diverged,
      transactionIdOf: g.transactionIdOf,
    });
    expect(v.verdict).toBe("illegal");
    expect([v.linearizability.verdict, v.conservation.verdict, v.noOverdraft.verdict, v.convergence.verdict]).toEqual([
      "ok",
      "ok",
      "ok",
      "illegal",
    ]);
  });

  it("is unknown, not ok, when the linearizability search runs out of budget and nothing failed", () => {
    const g = generateHistory({ seed: 13, ops: 120, overlapMs: 40, spacingMs: 10, unknownPercent: 5 });
    const v = checkRun({
      history: g.history,
      finalState: g.finalState,
      replicas: converged,
      transactionIdOf: g.transactionIdOf,
      search: { stepsPerAccountMax: 10 },
    });
    expect(v.verdict).toBe("unknown");
  });

  it("names transactions the gateway's way", () => {
    const account = "0123456789abcdef";
    const id = gatewayTransactionIdOf(account, "req-1");
    expect(id).toBe(
      account + transactionLocalIdFromRequestId(0x0123456789abcdefn, "req-1").toString(16).padStart(16, "0"),
    );
  });
});
