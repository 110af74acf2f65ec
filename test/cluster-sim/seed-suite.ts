// Runs consecutive seeds of the whole-cluster simulator as test cases, a few seeds per case so
// each case stays well inside the per-test timeout on a loaded machine; a failure names its seed
// and the command that replays it.

import { expect, it } from "vitest";
import { runClusterSimulation } from "./cluster-simulation.js";
import { describeResult } from "./describe-result.js";

/** Virtual time of chaos per seed in npm test (the CLI's default is longer). */
export const testChaosMs = 4_000;
const seedsPerCase = 5;
/** A case's budget on a loaded machine (a seed takes about half a second on an idle core). */
const caseTimeoutMs = 180_000;

export function simulateSeeds(first: number, count: number): void {
  for (let start = first; start < first + count; start += seedsPerCase) {
    const last = Math.min(start + seedsPerCase, first + count) - 1;
    it(
      `seeds ${start}..${last}: every check passes after faults, and the cluster recovers`,
      async () => {
        for (let seed = start; seed <= last; seed++) {
          const r = await runClusterSimulation({ seed, chaosMs: testChaosMs });
          if (!r.passed) expect.fail(describeResult(r, testChaosMs));
        }
      },
      caseTimeoutMs,
    );
  }
}
