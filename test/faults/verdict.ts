// A fault run's verdict and its printed summary: operations by outcome and kind, faults
// injected, and each checker's result. A run passes when no checker found a violation, the
// replicas converged and no process died on its own; an undecided linearizability search is
// reported as "unknown" and never counted as a pass of that checker.

import { checkRun, describeRunVerdict, type RunVerdict } from "./checkers/check-run.js";
import { gatewayTransactionIdOf } from "./checkers/gateway-ids.js";
import type { FaultRunResult } from "./fault-run.js";

export interface RunJudgement {
  checks: RunVerdict;
  /** No violation, converged, no crash. */
  passed: boolean;
  /** Passed, and every checker decided (no "unknown"). */
  decided: boolean;
}

export function judgeRun(result: FaultRunResult): RunJudgement {
  const checks = checkRun({
    history: result.history,
    finalState: result.accounts,
    replicas: result.replicas,
    transactionIdOf: gatewayTransactionIdOf,
    replicasPerShard: 3,
  });
  const passed = checks.verdict !== "illegal" && result.converged && result.crashes.length === 0;
  return { checks, passed, decided: passed && checks.verdict === "ok" };
}

export function formatSummary(result: FaultRunResult, judgement: RunJudgement, seed: number): string {
  const outcomes = { ok: 0, failed: 0, unknown: 0 };
  const byKind = new Map<string, { ok: number; failed: number; unknown: number }>();
  for (const op of result.history) {
    outcomes[op.outcome]++;
    const k = byKind.get(op.kind) ?? { ok: 0, failed: 0, unknown: 0 };
    k[op.outcome]++;
    byKind.set(op.kind, k);
  }
  const faults = Object.entries(result.faults)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
  const lines = [
    `=== fault run summary (seed ${seed}, ${(result.durationMs / 60_000).toFixed(1)} min) ===`,
    `operations: ${result.history.length} (ok ${outcomes.ok}, failed ${outcomes.failed}, unknown ${outcomes.unknown})`,
    ...[...byKind].map(([kind, c]) => `  ${kind}: ok ${c.ok}, failed ${c.failed}, unknown ${c.unknown}`),
    `faults injected: ${Object.values(result.faults).reduce((a, b) => a + b, 0)} (${faults})`,
    `replicas converged after healing: ${result.converged ? "yes" : `no: ${result.convergenceError ?? "?"}`}`,
    `processes that died on their own: ${result.crashes.length === 0 ? "none" : result.crashes.join("; ")}`,
    ...describeRunVerdict(judgement.checks),
    `result: ${judgement.passed ? (judgement.decided ? "PASS" : "PASS (some checks undecided: see above)") : "FAIL"}`,
  ];
  return lines.join("\n");
}
