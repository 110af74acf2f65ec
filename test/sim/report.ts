// How a run is told to a person: one line for a pass, the seed, the broken property, the replay
// command and the trace tail for a failure.

import type { SimResult } from "./simulation.js";

/** Trace lines printed with a failure. */
export const failureTraceLines = 60;

export function replayCommand(r: SimResult, chaosSteps: number, replicasGiven: boolean): string {
  const replicas = replicasGiven ? ` --replicas ${r.replicas}` : "";
  return `npm run sim -- --seed ${r.seed}${replicas} --steps ${chaosSteps}`;
}

export function describePass(r: SimResult): string {
  const s = r.stats;
  return (
    `seed ${r.seed}: ok, ${r.replicas} replicas, ${s.steps} steps (settled ${s.settleSteps} after heal), ` +
    `${s.leaders} leader terms, ${s.crashes} crashes, ${s.acks}/${s.proposals} proposals acknowledged (${s.refusals} refused), ` +
    `${s.readAnswers}/${s.reads} reads answered, ${s.delivered} messages delivered, ${s.dropped} dropped, ${s.forged} forged refused, ` +
    `membership changes: ${s.confChanges.addLearner} learners added, ${s.confChanges.promote} promoted, ${s.confChanges.remove} removed (${s.confChanges.removeLeader} leaders), ${s.finalMembers} members at the end, trace ${hex(r.traceHash)}`
  );
}

export function describeFailure(r: SimResult, replay: string): string {
  const f = r.failure;
  const what =
    f === undefined ? "?" : f.name === "SafetyViolation" ? f.message : `the core threw ${f.name}: ${f.message}`;
  const lines = [
    `seed ${r.seed} FAILED (${r.replicas} replicas, at step ${r.stats.steps}): ${what}`,
    `replay: ${replay}`,
    `last ${Math.min(failureTraceLines, r.traceTail.length)} trace lines:`,
    ...r.traceTail.slice(-failureTraceLines).map((l) => `  ${l}`),
  ];
  if (f !== undefined && f.name !== "SafetyViolation") lines.push(f.stack ?? "");
  return lines.join("\n");
}

export function hex(h: number): string {
  return h.toString(16).padStart(8, "0");
}
