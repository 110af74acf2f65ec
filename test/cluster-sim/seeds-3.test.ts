// Whole-cluster simulation, seeds 101..150 (four files, so both test workers share the seeds).

import { describe } from "vitest";
import { simulateSeeds } from "./seed-suite.js";

describe("whole-cluster simulator", () => {
  simulateSeeds(101, 50);
});
