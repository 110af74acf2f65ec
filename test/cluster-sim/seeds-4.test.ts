// Whole-cluster simulation, seeds 151..200 (four files, so both test workers share the seeds).

import { describe } from "vitest";
import { simulateSeeds } from "./seed-suite.js";

describe("whole-cluster simulator", () => {
  simulateSeeds(151, 50);
});
