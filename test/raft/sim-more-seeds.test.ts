// 1,000 more simulator seeds (1001..2000), in their own file so vitest runs them on the second
// worker beside sim.test.ts.

import { describe, expect, it } from "vitest";
import { firstFailure } from "../sim/seed-batch.js";

const seedsPerCase = 250;

describe("Raft simulator, more seeds", () => {
  for (let first = 1001; first <= 2000; first += seedsPerCase) {
    const last = first + seedsPerCase - 1;
    it(`seeds ${first}..${last} (3 and 5 replicas) keep every safety check and settle within the liveness bound`, () => {
      expect(firstFailure(first, seedsPerCase)).toBeUndefined();
    });
  }
});
