// For the test suite: run a batch of seeds and describe the first failure (seed, property,
// replay command, trace tail), or undefined when every run passed.

import { describeFailure, replayCommand } from "./report.js";
import { runMany } from "./run-many.js";

/** Chaos steps per seed in the test suite: sized so 2,000 seeds take well under two minutes. */
export const testChaosSteps = 1500;

export function firstFailure(firstSeed: number, runs: number, chaosSteps = testChaosSteps): string | undefined {
  const m = runMany({ firstSeed, runs, chaosSteps });
  if (m.failure === undefined) return undefined;
  return describeFailure(m.failure, replayCommand(m.failure, chaosSteps, false));
}
