// A whole-cluster simulation run in a line, or, for a failure, what failed, the disks' and the
// network's counters, the trace tail and the command that replays it.

import { chaosMsDefault, type ClusterSimResult } from "./cluster-simulation.js";

export function describeResult(r: ClusterSimResult, chaosMs: number): string {
  const ops = r.operations;
  const head = `seed ${r.seed}: ${r.passed ? "PASS" : "FAIL"} (${r.shards} shards; ops ok ${ops.ok}, failed ${ops.failed}, unknown ${ops.unknown}; ${(r.virtualMs / 1000).toFixed(1)} s virtual, ${r.events} events; faults: ${r.faults})`;
  if (r.passed) return head;
  const replay = `npm run sim:cluster -- --seed ${r.seed}${chaosMs !== chaosMsDefault ? ` --chaos-ms ${chaosMs}` : ""} --verbose`;
  return [
    head,
    `failure:\n  ${(r.failure ?? "").replaceAll("\n", "\n  ")}`,
    r.stats,
    "trace tail:",
    ...r.traceTail.map((l) => `  ${l}`),
    `replay: ${replay}`,
  ].join("\n");
}
