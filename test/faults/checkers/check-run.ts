// All four checkers over one fault run, and one verdict: illegal if any checker found a
// violation, unknown if none did but one could not decide, ok only if all passed.

import type { FinalState, History, ReplicaPositions } from "../history.js";
import type { TransactionIdOf } from "./account-histories.js";
import { checkConservation, type ConservationResult } from "./conservation.js";
import { checkConvergence, type ConvergenceResult } from "./convergence.js";
import { checkLinearizability, type LinearizabilityOptions, type LinearizabilityResult } from "./linearizability.js";
import { checkNoOverdraft, type NoOverdraftResult } from "./no-overdraft.js";
import { combine, type Verdict } from "./verdict.js";

export interface RunEvidence {
  readonly history: History;
  /** Every account's balances and stored transactions, read after healing. */
  readonly finalState: FinalState;
  /** Per shard, each replica's applied index and state hash, after healing. */
  readonly replicas: ReplicaPositions;
  /** The id the gateway derives for (accountId, requestId), so that unknown creates are named too. */
  readonly transactionIdOf?: TransactionIdOf;
  readonly replicasPerShard?: number;
  /** Budgets and clock of the linearizability search. */
  readonly search?: Omit<LinearizabilityOptions, "transactionIdOf" | "finalState">;
}

export interface RunVerdict {
  readonly verdict: Verdict;
  readonly linearizability: LinearizabilityResult;
  readonly conservation: ConservationResult;
  readonly noOverdraft: NoOverdraftResult;
  readonly convergence: ConvergenceResult;
}

export function checkRun(evidence: RunEvidence): RunVerdict {
  const { history, finalState, transactionIdOf } = evidence;
  const linearizability = checkLinearizability(history, { ...evidence.search, transactionIdOf, finalState });
  const conservation = checkConservation(history, finalState, { transactionIdOf });
  const noOverdraft = checkNoOverdraft(finalState);
  const convergence = checkConvergence(evidence.replicas, { replicasPerShard: evidence.replicasPerShard });
  const verdict = combine([linearizability.verdict, conservation.verdict, noOverdraft.verdict, convergence.verdict]);
  return { verdict, linearizability, conservation, noOverdraft, convergence };
}

/** A few lines per checker for a run's summary: the verdict, then the first problems. */
export function describeRunVerdict(v: RunVerdict, problemsMax = 5): string[] {
  const lin = v.linearizability;
  const count = (verdict: Verdict): number => lin.accounts.filter((a) => a.verdict === verdict).length;
  const lines = [
    `linearizability: ${lin.verdict} (${lin.accounts.length} accounts: ${count("ok")} ok, ${count("illegal")} illegal, ${count("unknown")} unknown)`,
    ...lin.accounts
      .filter((a) => a.verdict !== "ok")
      .slice(0, problemsMax)
      .map((a) => `  account ${a.accountId} ${a.verdict}: ${(a.explanation ?? "").replaceAll("\n", "\n    ")}`),
    `conservation: ${v.conservation.verdict} (${v.conservation.accountsChecked} accounts, ${v.conservation.transactionsChecked} transactions)`,
    ...v.conservation.problems.slice(0, problemsMax).map((p) => `  ${p.kind} ${p.accountId}: ${p.message}`),
    `no overdraft: ${v.noOverdraft.verdict} (${v.noOverdraft.purchasesChecked} accepted purchases)`,
    ...v.noOverdraft.overdrafts.slice(0, problemsMax).map((o) => `  ${o.accountId}: ${o.message}`),
    `convergence: ${v.convergence.verdict} (${v.convergence.shardsChecked} shards)`,
    ...v.convergence.divergent.slice(0, problemsMax).map((d) => `  ${d.shardId}: ${d.message}`),
  ];
  return lines;
}
